from tests.assistant.conftest import shop  # noqa: F401 - the assistant's small shop, for citation tests
