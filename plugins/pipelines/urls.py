from django.urls import path

from . import sourcefile_views as sf
from . import views

urlpatterns = [
    path("pipelines/", views.PipelineList.as_view(), name="pipeline-list"),
    path("pipelines/search/", views.PipelineListSearch.as_view(), name="pipeline-list-query-search"),
    path("pipelines/<int:pk>/", views.PipelineDetail.as_view(), name="pipeline-detail"),
    path("pipelines/<int:pk>/json/", views.PipelineCustomJson.as_view(), name="pipeline-customjson-detail"),
    path("pipelines/<int:pk>/plugins/", views.PipelinePluginList.as_view(), name="pipeline-plugin-list"),
    path("pipelines/<int:pk>/pipings/", views.PipelinePipingList.as_view(), name="pipeline-pluginpiping-list"),
    path("pipelines/<int:pk>/parameters/", views.PipelineDefaultParameterList.as_view(),
         name="pipeline-defaultparameter-list"),
    path("pipelines/pipings/<int:pk>/", views.PluginPipingDetail.as_view(), name="pluginpiping-detail"),
    path("pipelines/string-parameter/<int:pk>/", views.typed_default_view("string").as_view(),
         name="defaultpipingstrparameter-detail"),
    path("pipelines/integer-parameter/<int:pk>/", views.typed_default_view("integer").as_view(),
         name="defaultpipingintparameter-detail"),
    path("pipelines/float-parameter/<int:pk>/", views.typed_default_view("float").as_view(),
         name="defaultpipingfloatparameter-detail"),
    path("pipelines/boolean-parameter/<int:pk>/", views.typed_default_view("boolean").as_view(),
         name="defaultpipingboolparameter-detail"),
    path("pipelines/sourcefiles/", sf.PipelineSourceFileList.as_view(), name="pipelinesourcefile-list"),
    path("pipelines/sourcefiles/search/", sf.PipelineSourceFileListSearch.as_view(),
         name="pipelinesourcefile-list-query-search"),
    path("pipelines/sourcefiles/<int:pk>/", sf.PipelineSourceFileDetail.as_view(), name="pipelinesourcefile-detail"),
    path("pipelines/sourcefiles/<int:pk>/<path:name>", sf.PipelineSourceFileResource.as_view(),
         name="pipelinesourcefile-resource"),
]
