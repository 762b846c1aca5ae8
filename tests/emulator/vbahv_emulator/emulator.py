"""The Emulator object: state, settings, tokens, faults and request log of one server."""

from typing import Any

from vbahv_emulator.auth import TokenStore
from vbahv_emulator.config import Config
from vbahv_emulator.dataset import build_default_dataset
from vbahv_emulator.loader import build_state, validate_dataset
from vbahv_emulator.monitor import FaultStore, RequestLog
from vbahv_emulator.store import State


class Emulator:
    def __init__(self, config: Config, dataset: Any = "default", seed: int | None = None) -> None:
        """Start from `dataset`: "default", "empty", or a dataset dict (validated here)."""
        self.startup_config = config.copy()
        self.config = config.copy()
        self.seed = seed
        self.tokens = TokenStore()
        self.faults = FaultStore()
        self.log = RequestLog()
        self.state = self.load(dataset)

    def load(self, dataset: Any) -> State:
        if dataset == "default":
            built = (
                build_default_dataset() if self.seed is None else build_default_dataset(self.seed)
            )
            return build_state(validate_dataset(built))
        if dataset == "empty":
            return build_state({"seed": 1 if self.seed is None else self.seed})
        return build_state(validate_dataset(dataset))

    def reset(self, dataset: Any = "default") -> None:
        """Load `dataset` and put tokens, faults, the request log and settings back to start-up."""
        state = self.load(dataset)
        self.state = state
        self.tokens.clear()
        self.faults.clear()
        self.log.clear()
        self.log.clear_counters()
        self.config = self.startup_config.copy()

    def replace_dataset(self, dataset: dict) -> None:
        """Swap in a dataset built by the generator, keeping tokens, faults and settings."""
        self.state = build_state(dataset)
