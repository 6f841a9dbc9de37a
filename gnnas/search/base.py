r"""The shared machinery of every search: seeding, stepping, checkpoints and the result.

A search subclasses :class:`Search` and writes only what differs: :meth:`Search.step` (one unit of
work: one query for random search, one child for evolution, one neighbourhood for local search,
one outer epoch for NAO) and, if it keeps state between steps, :meth:`Search.extra_state` and
:meth:`Search.load_extra_state`. :meth:`Search.run` loops over steps until the oracle's budget is
spent (or the method finishes), and can write a checkpoint every few steps; :meth:`Search.resume`
continues from one. Because a checkpoint holds the oracle's queries and the state of every random
generator, a resumed run makes exactly the queries an uninterrupted run makes.

Example::

    >>> from gnnas.nasbench import NASBench101
    >>> from gnnas.search import Oracle, RegularizedEvolution
    >>> table = NASBench101.bundled()
    >>> search = RegularizedEvolution(Oracle(table, budget=100, mapping="nearest"), seed=0)
    >>> result = search.run(checkpoint="re.ckpt", checkpoint_every=50, max_steps=60)  # interrupted
    >>> result.num_queries
    60
    >>> resumed = RegularizedEvolution.resume("re.ckpt", Oracle(table, budget=100, mapping="nearest"))
    >>> result = resumed.run()
    >>> uninterrupted = RegularizedEvolution(Oracle(table, budget=100, mapping="nearest"), seed=0).run()
    >>> result.records == uninterrupted.records
    True
    >>> result.save("re.json")
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gnnas.files import DamagedFileError, load_torch, save_torch
from gnnas.search.oracle import BudgetExhausted, Oracle
from gnnas.search.result import SearchResult

__all__ = ["Search", "CHECKPOINT_VERSION"]

#: Version of the checkpoint layout.
CHECKPOINT_VERSION = 1


class Search(ABC):
    r"""Base class of the searches: a seeded loop of steps over a budgeted :class:`Oracle`.

    Args:
        oracle (Oracle): the oracle to query; it holds the budget.
        config (object, optional): the method's settings, an instance of :attr:`Config`; the
            defaults when :obj:`None`. (default: :obj:`None`)
        seed (int, optional): seed of the run's generators. (default: :obj:`0`)

    Raises:
        ValueError: if ``config`` is not a :attr:`Config` or ``seed`` is not a non-negative int.

    Example:
        A search writes :meth:`step`; here, one that queries the table's cells in order.

        >>> from gnnas.nasbench import NASBench101
        >>> from gnnas.search import Oracle, Search
        >>> class InOrder(Search):
        ...     name = "in_order"
        ...
        ...     def step(self) -> bool:
        ...         self.oracle.query_index(self.steps)
        ...         return True
        >>> result = InOrder(Oracle(NASBench101.bundled(), budget=3)).run()
        >>> result.method, result.num_queries, result.stop_reason
        ('in_order', 3, 'budget')
    """

    #: Name of the method, as written in results.
    name: ClassVar[str] = "search"
    #: The settings dataclass of the method.
    Config: ClassVar[type] = object
    #: Steps between checkpoints when :meth:`run` is not told: a step of most methods is a query or
    #: a few, cheap to redo, while a checkpoint holds every query so far (NAO, whose step is an
    #: outer epoch, sets 1).
    checkpoint_every: ClassVar[int] = 100

    def __init__(self, oracle: Oracle, config: Any = None, *, seed: int = 0) -> None:
        if not isinstance(oracle, Oracle):
            raise ValueError(f"oracle must be an Oracle, got {type(oracle).__name__}")
        if config is None:
            config = self.Config()
        if not isinstance(config, self.Config):
            raise ValueError(f"config must be a {self.Config.__name__}, got {type(config).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be an int in [0, 2**63), got {seed!r}")
        self.oracle = oracle
        self.config = config
        self.seed = int(seed)
        self.generator = np.random.default_rng(self.seed)
        self.steps = 0
        self.stop_reason: str | None = None
        self.extra: dict[str, Any] = {}

    # ------------------------------------------------------------------ what subclasses write
    @abstractmethod
    def step(self) -> bool:
        """Does one unit of work.

        Returns:
            bool: :obj:`False` when the method has finished on its own, else :obj:`True`.

        Raises:
            BudgetExhausted: when the oracle's budget runs out (the run then stops).
        """

    def extra_state(self) -> dict[str, Any]:
        """Returns the method's own state between steps, saved in checkpoints.

        Returns:
            dict[str, Any]: JSON-like values or tensors; empty for a method without state.
        """
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restores what :meth:`extra_state` returned.

        Args:
            state (dict[str, Any]): the saved state.
        """

    # ------------------------------------------------------------------ running
    def run(self, *, checkpoint: str | Path | None = None, checkpoint_every: int | None = None,
            max_steps: int | None = None, callback: Callable[[Search], None] | None = None) -> SearchResult:
        """Steps until the budget is spent, the method finishes, or ``max_steps`` steps are done.

        Args:
            checkpoint (str or Path, optional): file to write a checkpoint to (atomically), every
                ``checkpoint_every`` steps and when the run stops. (default: :obj:`None`)
            checkpoint_every (int, optional): steps between checkpoints; :obj:`None` is the
                method's :attr:`checkpoint_every`. A checkpoint holds every query so far, so writing
                one after every cheap step would make a long run quadratic. (default: :obj:`None`)
            max_steps (int, optional): stop after this many steps of this call (the run can go on
                with another :meth:`run` or from the checkpoint). (default: :obj:`None`)
            callback (callable, optional): called with the search after every step, e.g. to show
                progress (``search.oracle.num_queries``). (default: :obj:`None`)

        Returns:
            SearchResult: the run so far.

        Raises:
            ValueError: if ``checkpoint_every`` is below 1.
            gnnas.files.WriteError: if the checkpoint cannot be written.
        """
        if checkpoint_every is None:
            checkpoint_every = self.checkpoint_every
        every = checkpoint_every
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"checkpoint_every must be an int >= 1, got {checkpoint_every!r}")
        done = 0
        saved_at = self.steps  # the steps of the last checkpoint (or of the start)
        while self.stop_reason is None:
            if max_steps is not None and done >= max_steps:
                if checkpoint is not None and self.steps != saved_at:
                    self.save_checkpoint(checkpoint)
                return self.result(stop_reason="max_steps")
            if self.oracle.exhausted:
                self.stop_reason = "table" if self.oracle.num_queries >= len(self.oracle) else "budget"
                break
            try:
                if not self.step():
                    self.stop_reason = self.stop_reason or "finished"
            except BudgetExhausted:
                self.stop_reason = "budget"
            self.steps += 1
            done += 1
            if checkpoint is not None and self.steps % checkpoint_every == 0 and not self.stop_reason:
                self.save_checkpoint(checkpoint)
                saved_at = self.steps
            if callback is not None:
                callback(self)
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return self.result()

    def result(self, stop_reason: str | None = None) -> SearchResult:
        """Returns the run so far as a :class:`SearchResult`.

        Args:
            stop_reason (str, optional): the stop reason to record; :obj:`None` records the run's
                own (``"running"`` while it runs). (default: :obj:`None`)

        Returns:
            SearchResult: the configuration and every query so far.
        """
        oracle = self.oracle
        return SearchResult(
            method=self.name, seed=self.seed, config=self.config_dict(), oracle=oracle.config(),
            records=list(oracle.records), table_best=oracle.table_best,
            ranks=oracle.ranks([r.accuracy for r in oracle.records]),
            stop_reason=stop_reason or self.stop_reason or "running", extra=dict(self.extra))

    def config_dict(self) -> dict[str, Any]:
        """Returns the method's settings.

        Returns:
            dict[str, Any]: the fields of :attr:`config`, JSON-ready.
        """
        return asdict(self.config) if is_dataclass(self.config) else {}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Returns everything needed to continue the run.

        Returns:
            dict[str, Any]: the method, seed, settings, step count, generator state, the oracle's
            queries and :meth:`extra_state`.
        """
        return {
            "version": CHECKPOINT_VERSION, "method": self.name, "seed": self.seed,
            "config": self.config_dict(), "steps": self.steps, "stop_reason": self.stop_reason,
            "generator": self.generator.bit_generator.state, "oracle": self.oracle.state_dict(),
            "extra": dict(self.extra), "state": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state from :meth:`state_dict`.

        Args:
            state (dict[str, Any]): what :meth:`state_dict` returned.

        Raises:
            ValueError: if the state belongs to another method, seed or configuration (naming the
                settings that differ).
        """
        if state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint version {state.get('version')} != {CHECKPOINT_VERSION}")
        if state["method"] != self.name:
            raise ValueError(f"checkpoint of method {state['method']!r}, not {self.name!r}")
        if state["seed"] != self.seed:
            raise ValueError(f"checkpoint of seed {state['seed']}, not {self.seed}")
        changed = _differences(state["config"], self.config_dict())
        if changed:
            raise ValueError(f"the checkpoint's settings differ: {changed}")
        self.steps = int(state["steps"])
        self.stop_reason = state["stop_reason"]
        self.generator.bit_generator.state = state["generator"]
        self.oracle.load_state_dict(state["oracle"])
        self.extra = dict(state["extra"])
        self.load_extra_state(state["state"])

    def save_checkpoint(self, path: str | Path) -> None:
        """Writes :meth:`state_dict` to ``path`` atomically, with a checksum beside it
        (:func:`gnnas.files.save_torch`), so it is never half written.

        Args:
            path (str or Path): the checkpoint file.

        Raises:
            gnnas.files.WriteError: if the file cannot be written (a full disk); the previous
                checkpoint is then intact.
        """
        save_torch(self.state_dict(), path)

    @classmethod
    def resume(cls, path: str | Path, oracle: Oracle, config: Any = None, seed: int | None = None,
               **kwargs: Any) -> Search:
        """Rebuilds a search from a checkpoint written by :meth:`save_checkpoint`.

        Args:
            path (str or Path): the checkpoint.
            oracle (Oracle): a fresh oracle with the same settings and table as the saved one.
            config (object, optional): the settings the run must have; :obj:`None` takes the
                checkpoint's. (default: :obj:`None`)
            seed (int, optional): the seed the run must have; :obj:`None` takes the checkpoint's.
                (default: :obj:`None`)
            **kwargs: further constructor arguments of the method (see the subclass).

        Returns:
            Search: the search, ready for :meth:`run`.

        Raises:
            gnnas.files.DamagedFileError: if the file is damaged, has no valid checksum, or is not
                a checkpoint of this method.
            ValueError: naming the difference, if the checkpoint has another seed, other settings,
                or another oracle (settings or table) than the ones given.
        """
        state = load_torch(path)
        if not isinstance(state, dict) or not all(k in state for k in _ENTRIES):
            raise DamagedFileError(path, "not a search checkpoint")
        if state.get("method") != cls.name:
            raise DamagedFileError(path, f"a checkpoint of method {state.get('method')!r}, not {cls.name!r}")
        try:
            saved = _config_from_dict(cls.Config, state["config"])
        except (TypeError, ValueError) as error:
            raise DamagedFileError(path, f"bad settings in the checkpoint ({error})") from None
        if config is not None:
            changed = _differences(state["config"], asdict(config) if is_dataclass(config) else {})
            if changed:
                raise ValueError(f"cannot resume {os.fspath(path)}: its settings differ from the ones "
                                 f"given: {changed}")
        if seed is not None and state["seed"] != seed:
            raise ValueError(f"cannot resume {os.fspath(path)}: it is a run of seed {state['seed']}, "
                             f"not {seed}")
        search = cls(oracle, saved, seed=state["seed"], **kwargs)
        try:
            search.load_state_dict(state)
        except ValueError as error:
            raise ValueError(f"cannot resume {os.fspath(path)}: {error}") from None
        except (KeyError, TypeError, IndexError, RuntimeError) as error:
            raise DamagedFileError(path, f"a damaged search checkpoint ({type(error).__name__}: "
                                   f"{str(error)[:200]})") from None
        return search


#: The entries of a search checkpoint.
_ENTRIES = ("version", "method", "seed", "config", "steps", "stop_reason", "generator", "oracle",
            "extra", "state")


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> str:
    """``"name saved → now, ..."`` for the settings that differ, or ``""``."""
    changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
    return ", ".join(f"{k} {saved.get(k)!r} saved, {now.get(k)!r} now" for k in changed)


def _config_from_dict(config_cls: type, values: dict[str, Any]) -> Any:
    if not is_dataclass(config_cls):
        return config_cls()
    names = {f.name for f in fields(config_cls)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"checkpoint config has unknown fields {sorted(unknown)} for {config_cls.__name__}")
    return config_cls(**values)
