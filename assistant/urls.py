from django.urls import path

from assistant.api import AssistantSearchApi, ChatApi, ClassifyApi, GenerateApi, SummarizeApi

urlpatterns = [
    path("chat", ChatApi.as_view(), name="ai-chat"),
    path("search", AssistantSearchApi.as_view(), name="ai-search"),
    path("summarize", SummarizeApi.as_view(), name="ai-summarize"),
    path("classify", ClassifyApi.as_view(), name="ai-classify"),
    path("generate", GenerateApi.as_view(), name="ai-generate"),
]
