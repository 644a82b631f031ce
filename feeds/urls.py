from django.urls import path

from plugins.models import ParameterType

from . import files, notes, sharing, splits, tags, views, workflows

urlpatterns = [
    path("", views.FeedList.as_view(), name="feed-list"),
    path("search/", views.FeedListSearch.as_view(), name="feed-list-query-search"),
    path("<int:pk>/", views.FeedDetail.as_view(), name="feed-detail"),
    path("<int:pk>/plugininstances/", views.FeedPluginInstanceList.as_view(), name="feed-plugininstance-list"),
    path("<int:pk>/files/", files.FeedFileList.as_view(), name="feed-file-list"),
    path("files/", files.AllFeedFileList.as_view(), name="allfeedfile-list"),
    path("files/search/", files.AllFeedFileListSearch.as_view(), name="allfeedfile-list-query-search"),
    path("files/<int:pk>/", files.FeedFileDetail.as_view(), name="feedfile-detail"),
    path("files/<int:pk>/<path:name>", files.FeedFileResource.as_view(), name="feedfile-resource"),
    path("plugins/instances/<int:pk>/files/", files.PluginInstanceFileList.as_view(), name="plugininstance-file-list"),
    path("note<int:pk>/", notes.NoteDetail.as_view(), name="note-detail"),
    path("<int:pk>/comments/", notes.CommentList.as_view(), name="comment-list"),
    path("<int:pk>/comments/search/", notes.CommentListSearch.as_view(), name="comment-list-query-search"),
    path("comments/<int:pk>/", notes.CommentDetail.as_view(), name="comment-detail"),
    path("tags/", tags.TagList.as_view(), name="tag-list"),
    path("tags/search/", tags.TagListSearch.as_view(), name="tag-list-query-search"),
    path("tags/<int:pk>/", tags.TagDetail.as_view(), name="tag-detail"),
    path("tags/<int:pk>/feeds/", tags.TagFeedList.as_view(), name="tag-feed-list"),
    path("tags/<int:pk>/taggings/", tags.TagTaggingList.as_view(), name="tag-tagging-list"),
    path("taggings/<int:pk>/", tags.TaggingDetail.as_view(), name="tagging-detail"),
    path("<int:pk>/tags/", tags.FeedTagList.as_view(), name="feed-tag-list"),
    path("<int:pk>/taggings/", tags.FeedTaggingList.as_view(), name="feed-tagging-list"),
    path("pipelines/<int:pk>/workflows/", workflows.PipelineWorkflowList.as_view(), name="workflow-list"),
    path("pipelines/workflows/", workflows.AllWorkflowList.as_view(), name="allworkflow-list"),
    path("pipelines/workflows/search/", workflows.AllWorkflowListSearch.as_view(),
         name="allworkflow-list-query-search"),
    path("pipelines/workflows/<int:pk>/", workflows.WorkflowDetail.as_view(), name="workflow-detail"),
    path("pipelines/workflows/<int:pk>/plugininstances/", workflows.WorkflowPluginInstanceList.as_view(),
         name="workflow-plugininstance-list"),
    path("pipelines/instances/", workflows.AllPipelineInstanceList.as_view(), name="allpipelineinstance-list"),
    path("pipelines/instances/search/", workflows.AllPipelineInstanceListSearch.as_view(),
         name="allpipelineinstance-list-query-search"),
    path("pipelines/<int:pk>/instances/", workflows.PipelineInstanceList.as_view(), name="pipelineinstance-list"),
    path("pipelines/instances/<int:pk>/", workflows.PipelineInstanceDetail.as_view(),
         name="pipelineinstance-detail"),
    path("publicfeeds/", views.PublicFeedList.as_view(), name="publicfeed-list"),
    path("publicfeeds/search/", views.PublicFeedListSearch.as_view(), name="publicfeed-list-query-search"),
    path("plugins/<int:pk>/instances/", views.PluginInstanceList.as_view(), name="plugininstance-list"),
    path("plugins/instances/", views.AllPluginInstanceList.as_view(), name="allplugininstance-list"),
    path("plugins/instances/search/", views.AllPluginInstanceListSearch.as_view(),
         name="allplugininstance-list-query-search"),
    path("plugins/instances/<int:pk>/", views.PluginInstanceDetail.as_view(), name="plugininstance-detail"),
    path("plugins/instances/<int:pk>/descendants/", views.PluginInstanceDescendantList.as_view(),
         name="plugininstance-descendant-list"),
    path("plugins/instances/<int:pk>/parameters/", views.PluginInstanceParameterList.as_view(),
         name="plugininstance-parameter-list"),
    path("plugins/instances/<int:pk>/splits/", splits.SplitList.as_view(), name="plugininstancesplit-list"),
    path("plugins/instances/splits/<int:pk>/", splits.SplitDetail.as_view(), name="plugininstancesplit-detail"),
    path("plugins/instances/<int:pk>/logs/", views.PluginInstanceLogs.as_view(), name="plugininstance-logs"),
    *[
        path(f"plugins/{t}-parameter/<int:pk>/", views.TypedParameterDetail.as_view(param_type=t),
             name=f"{t}-parameter-detail")
        for t in ParameterType.values
    ],
    *[
        route
        for kind, (list_view, search_view, detail_view) in sharing.SHARE_VIEWS.items()
        for route in (
            path(f"<int:pk>/{kind}permissions/", list_view.as_view(), name=f"feed-{kind}-permission-list"),
            path(f"<int:pk>/{kind}permissions/search/", search_view.as_view(),
                 name=f"feed-{kind}-permission-list-query-search"),
            path(f"{kind}permissions/<int:pk>/", detail_view.as_view(), name=f"feed-{kind}-permission-detail"),
        )
    ],
]
