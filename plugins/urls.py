from django.urls import include, path

from . import admin_api, views

urlpatterns = [
    path("plugins/", views.PluginList.as_view(), name="plugin-list"),
    path("plugins/search/", views.PluginListSearch.as_view(), name="plugin-list-query-search"),
    path("plugins/<int:pk>/", views.PluginDetail.as_view(), name="plugin-detail"),
    path("plugins/<int:pk>/parameters/", views.PluginParameterList.as_view(), name="plugin-parameter-list"),
    path("plugins/<int:pk>/computeresources/", views.PluginComputeResourceList.as_view(),
         name="plugin-computeresource-list"),
    path("plugins/parameters/<int:pk>/", views.PluginParameterDetail.as_view(), name="pluginparameter-detail"),
    path("plugins/metas/", views.PluginMetaList.as_view(), name="pluginmeta-list"),
    path("plugins/metas/search/", views.PluginMetaListSearch.as_view(), name="pluginmeta-list-query-search"),
    path("plugins/metas/<int:pk>/", views.PluginMetaDetail.as_view(), name="pluginmeta-detail"),
    path("plugins/metas/<int:pk>/plugins/", views.PluginMetaPluginList.as_view(), name="pluginmeta-plugin-list"),
    path("computeresources/", views.ComputeResourceList.as_view(), name="computeresource-list"),
    path("computeresources/search/", views.ComputeResourceListSearch.as_view(),
         name="computeresource-list-query-search"),
    path("computeresources/<int:pk>/", views.ComputeResourceDetail.as_view(), name="computeresource-detail"),
    path("", include("plugins.pipelines.urls")),
]

admin_urlpatterns = [
    path("", admin_api.AdminPluginList.as_view(), name="admin-plugin-list"),
    path("<int:pk>/", admin_api.AdminPluginDetail.as_view(), name="admin-plugin-detail"),
    path("computeresources/", admin_api.AdminComputeResourceList.as_view(), name="admin-computeresource-list"),
    path("computeresources/<int:pk>/", admin_api.AdminComputeResourceDetail.as_view(),
         name="admin-computeresource-detail"),
]
