from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cube.api"
    label = "cube_api"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI authentication extensions
