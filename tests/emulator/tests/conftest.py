import pytest
from emu_helpers import ApiClient

from vbahv_emulator.testing import EmulatorProcess

# Sessions take half a second unless a test sets another duration.
SESSION_SECONDS = "0.5"


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("emulator")
    with EmulatorProcess(state_dir, args=["--session-duration", SESSION_SECONDS]) as process:
        yield process


@pytest.fixture(autouse=True)
def fresh_state(request, emulator):
    """Reset the shared emulator to the default dataset and start-up settings before each test."""
    emulator.control.reset("default")
    yield


@pytest.fixture
def control(emulator):
    return emulator.control


@pytest.fixture
def api(emulator):
    client = ApiClient(emulator)
    client.login()
    return client


@pytest.fixture
def anon(emulator):
    """A client that has not logged in."""
    return ApiClient(emulator)
