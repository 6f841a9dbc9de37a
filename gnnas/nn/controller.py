r"""The NAO controller on cell graphs: encoder, performance predictor and grammar-masked decoder.

A short tour::

    >>> import torch
    >>> from gnnas import ArchSpec, NAOController
    >>> from gnnas.nn import cells_to_batch
    >>> controller = NAOController()                   # default GIN encoder, GRU decoder, MLP
    >>> cells = [ArchSpec([[0, 1], [0, 0]], ["input", "output"])]
    >>> batch = cells_to_batch(cells)                  # x, edge_index, batch, tokens (B, 27)
    >>> out = controller(batch, target=torch.tensor([0.9]))
    >>> sorted(out)
    ['log_probs', 'loss', 'mse', 'nll', 'prediction', 'z']
    >>> out["loss"].backward()                         # λ·MSE + (1 − λ)·NLL, λ = trade_off
    >>> new_cells = controller.generate(cells, step_size=10.0)   # NAO's move, always valid cells
    >>> controller.save("controller.pt")
    >>> same = NAOController.load("controller.pt")     # sizes come from the file
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnas.files import DamagedFileError, load_torch, save_torch
from gnnas.nn.decoder import GrammarDecoder
from gnnas.nn.encoder import GINEncoder
from gnnas.nn.predictor import MLPPredictor
from gnnas.nn.utils import cells_to_batch, tokens_to_cells
from gnnas.space.cell_array import CellArray
from gnnas.space.spec import ArchSpec
from gnnas.space.tokens import SEQ_LEN

__all__ = ["NAOController", "check_controller_arguments", "MAX_CONTROLLER_SIZE", "PART_CLASSES"]

_FORMAT = "gnnas.NAOController"

#: The part classes a saved controller may name, by name: :meth:`NAOController.load` builds only
#: these (and the classes passed to it), and never imports a module that a file names.
PART_CLASSES: dict[str, type[nn.Module]] = {
    cls.__name__: cls for cls in (GINEncoder, GrammarDecoder, MLPPredictor)
}


def _class_name(cls: type) -> str:
    return cls.__name__ if PART_CLASSES.get(cls.__name__) is cls else f"{cls.__module__}:{cls.__qualname__}"


def _check_kwargs(path: str | os.PathLike, name: str, part: Any) -> tuple[str, dict[str, Any]]:
    """The class name and the arguments of one part of a saved configuration, checked for shape."""
    plain = (bool, int, float, str, type(None))
    if not (isinstance(part, dict) and isinstance(part.get("class"), str)
            and isinstance(part.get("kwargs"), dict)):
        raise DamagedFileError(path, f"not a saved NAOController (the {name} entry is malformed)")
    kwargs = part["kwargs"]
    for key, value in kwargs.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if not isinstance(key, str) or not all(isinstance(v, plain) for v in values):
            raise DamagedFileError(path, f"not a saved NAOController (the {name}'s argument {key!r} "
                                   "is not a plain value)")
    return part["class"], kwargs


#: The most parameters and buffer entries :func:`check_controller_arguments` lets a controller
#: have (about 1 GiB of float32 weights; the default controller has about 320,000).
MAX_CONTROLLER_SIZE = 2**28


def check_controller_arguments(**kwargs: Any) -> None:
    """Checks the keyword arguments of :class:`NAOController` without building the controller.

    The controller is built on PyTorch's ``meta`` device, which allocates nothing, so unknown
    arguments and sizes out of range are found before any memory is taken; the settings of
    pretraining (``encoder``, ``decoder``) and of NAO search (``controller_kwargs``) are checked
    this way when they are made.

    Args:
        **kwargs: what :class:`NAOController` takes (``encoder_kwargs``, ``decoder_kwargs``,
            ``predictor_kwargs``, ``embedding_channels``, ...).

    Raises:
        ValueError: naming the argument, if the controller could not be built (an unknown
            argument, a value out of range), or if it would have more than
            :data:`MAX_CONTROLLER_SIZE` parameters and buffer entries.
    """
    try:
        with torch.device("meta"):
            controller = NAOController(**kwargs)
    except (TypeError, RuntimeError, OverflowError) as error:
        text = str(error).strip()
        reason = text.splitlines()[0][:300] if text else type(error).__name__
        raise ValueError(f"bad controller arguments: {reason}") from None
    size = sum(t.numel() for t in (*controller.parameters(), *controller.buffers()))
    if size > MAX_CONTROLLER_SIZE:
        raise ValueError(f"the controller would have {size:,} parameters and buffer entries, more than "
                         f"{MAX_CONTROLLER_SIZE:,} (about 1 GiB); choose smaller widths")


def _check_fit(path: str | os.PathLike, model: nn.Module, state: dict[str, Tensor]) -> None:
    """Checks, on a model built on the meta device, that ``state`` holds exactly its weights and
    that building it for real allocates about as much memory as the saved weights take."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    buffers = {k: tuple(v.shape) for k, v in model.named_buffers()}  # also those not saved
    saved = {k: tuple(v.shape) for k, v in state.items()}
    differ = sorted(set(expected) - set(saved)) + sorted(
        k for k, shape in saved.items() if expected.get(k, buffers.get(k)) != shape)
    if differ:
        raise DamagedFileError(path, f"the saved weights do not fit the saved configuration "
                               f"({len(differ)} tensors differ, e.g. {differ[0]!r})")
    needed = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))
    held = sum(t.numel() * t.element_size() for t in state.values())
    if needed > 4 * held + 2**28:
        raise DamagedFileError(path, f"the saved configuration would allocate {needed / 2**30:.1f} GiB "
                               f"for {held / 2**20:.1f} MiB of saved weights")


class NAOController(nn.Module):
    r"""The controller of Neural Architecture Optimization, `"Neural Architecture Optimization"
    <https://arxiv.org/abs/1808.07233>`_, on cell graphs, as pretrained in `"Pretraining Neural
    Architecture Search Controllers with Locality-based Self-Supervised Learning"`.

    An encoder :math:`f_e` maps a cell to an embedding :math:`\mathbf{z}` (L2-normalised when
    ``normalize=True``, as in NAO), a predictor :math:`f_p` maps :math:`\mathbf{z}` to the predicted
    accuracy, and a decoder :math:`f_d` maps :math:`\mathbf{z}` back to the cell's 27 tokens. They
    are trained jointly with

    .. math::
        \mathcal{L} = \lambda\, \frac{1}{B}\sum_b \big(f_p(\mathbf{z}_b) - y_b\big)^2
        + (1 - \lambda)\, \frac{1}{27 B} \sum_b \sum_{t=1}^{27} -\log p(y_{b,t} \mid y_{b,<t},
        \mathbf{z}_b),

    with :math:`\lambda` = ``trade_off``. New cells come from moving embeddings along the gradient of
    the predictor and decoding (:meth:`generate`):

    .. math::
        \mathbf{z}' = \mathbf{z} + \eta\, \nabla_{\mathbf{z}} f_p(\mathbf{z}),

    re-normalised when ``normalize=True`` (NAO's ``generate_new_arch``). Decoding is masked by the
    token grammar (:mod:`gnnas.nn.grammar`), so every decoded embedding is a valid cell.

    Args:
        encoder (torch.nn.Module, optional): maps ``(x, edge_index, batch)`` to ``(B, D)``.
            (default: :obj:`None`, a :class:`~gnnas.nn.encoder.GINEncoder` with ``out_channels =
            embedding_channels`` and ``encoder_kwargs``)
        decoder (torch.nn.Module, optional): a :class:`~gnnas.nn.decoder.GrammarDecoder`-like module
            with ``forward(z, tokens)`` and ``decode(z, greedy, generator)``. (default: :obj:`None`,
            a :class:`~gnnas.nn.decoder.GrammarDecoder` with ``decoder_kwargs``)
        predictor (torch.nn.Module, optional): maps ``(B, D)`` to ``(B,)``. (default: :obj:`None`,
            an :class:`~gnnas.nn.predictor.MLPPredictor` with ``predictor_kwargs``)
        trade_off (float, optional): :math:`\lambda \in [0, 1]`. (default: :obj:`0.5`)
        normalize (bool, optional): L2-normalise the embeddings. (default: :obj:`True`)
        embedding_channels (int, optional): size ``D`` of the embedding of the default encoder.
            (default: :obj:`32`)
        encoder_kwargs (dict, optional): more arguments of the default encoder. (default: :obj:`None`)
        decoder_kwargs (dict, optional): more arguments of the default decoder. (default: :obj:`None`)
        predictor_kwargs (dict, optional): more arguments of the default predictor.
            (default: :obj:`None`)

    Raises:
        ValueError: if ``trade_off`` lies outside :math:`[0, 1]`, or the parts disagree on ``D``.
    """

    def __init__(self, encoder: nn.Module | None = None, decoder: nn.Module | None = None,
                 predictor: nn.Module | None = None, *, trade_off: float = 0.5, normalize: bool = True,
                 embedding_channels: int = 32, encoder_kwargs: dict[str, Any] | None = None,
                 decoder_kwargs: dict[str, Any] | None = None,
                 predictor_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        if not 0.0 <= float(trade_off) <= 1.0:
            raise ValueError(f"trade_off must lie in [0, 1], got {trade_off}")
        for name, part in (("encoder", encoder), ("decoder", decoder), ("predictor", predictor)):
            if part is not None and not isinstance(part, nn.Module):
                raise ValueError(f"{name} must be a torch.nn.Module or None, got {type(part).__name__}")
        if encoder is None:
            encoder = GINEncoder(**{"out_channels": embedding_channels, **(encoder_kwargs or {})})
        channels = getattr(encoder, "out_channels", embedding_channels)
        if decoder is None:
            decoder = GrammarDecoder(**{"in_channels": channels, **(decoder_kwargs or {})})
        if predictor is None:
            predictor = MLPPredictor(**{"in_channels": channels, **(predictor_kwargs or {})})
        for name, part in (("decoder", decoder), ("predictor", predictor)):
            part_channels = getattr(part, "in_channels", channels)
            if part_channels != channels:
                raise ValueError(f"the {name} takes embeddings of size {part_channels}, "
                                 f"the encoder makes {channels}")
        self.encoder = encoder
        self.decoder = decoder
        self.predictor = predictor
        self.trade_off = float(trade_off)
        self.normalize = normalize

    # ------------------------------------------------------------------ the three parts
    def encode(self, batch: Data | Sequence[ArchSpec] | CellArray) -> Tensor:
        """Embeds cells.

        Args:
            batch (torch_geometric.data.Data or Batch, Sequence[ArchSpec] or CellArray): the cells,
                as a PyG graph or batch with ``x`` and ``edge_index`` (and ``batch``) on the
                controller's device, or as specs or a :class:`~gnnas.space.CellArray` (collated
                and moved to that device here).

        Returns:
            torch.Tensor: the embeddings ``z``, ``(B, D)``.

        Raises:
            ValueError: if ``batch`` has no ``x`` or ``edge_index``, or the encoder refuses it.
        """
        if not isinstance(batch, Data):
            parameter = next(self.parameters(), None)
            batch = cells_to_batch(batch)
            if parameter is not None:
                batch = batch.to(parameter.device)  # a batch made here goes where the weights are
        x, edge_index = getattr(batch, "x", None), getattr(batch, "edge_index", None)
        if x is None or edge_index is None:
            raise ValueError("batch must have node features `x` and `edge_index`")
        z = self.encoder(x, edge_index, getattr(batch, "batch", None))
        return F.normalize(z, p=2.0, dim=-1) if self.normalize else z

    def predict(self, z: Tensor) -> Tensor:
        """Predicts the performance of embedded cells.

        Args:
            z (torch.Tensor): embeddings ``(B, D)``.

        Returns:
            torch.Tensor: the predictor's output ``(B,)``.
        """
        return self.predictor(z)

    def decode(self, z: Tensor, greedy: bool = True,
               generator: torch.Generator | None = None) -> list[ArchSpec]:
        """Decodes embeddings into cells (always valid; see :mod:`gnnas.nn.grammar`).

        Args:
            z (torch.Tensor): embeddings ``(B, D)``.
            greedy (bool, optional): most likely token at each step instead of sampling.
                (default: :obj:`True`)
            generator (torch.Generator, optional): random generator for sampling. (default: :obj:`None`)

        Returns:
            list[ArchSpec]: one cell per embedding, pruned.
        """
        return tokens_to_cells(self.decoder.decode(z, greedy=greedy, generator=generator).cpu())

    # ------------------------------------------------------------------ losses
    @staticmethod
    def _nll(log_probs: Tensor, tokens: Tensor) -> Tensor:
        return -log_probs.gather(2, tokens.long().unsqueeze(-1)).mean()

    def reconstruction_loss(self, z: Tensor, tokens: Tensor) -> Tensor:
        r"""Mean negative log-likelihood per token of the target sequences, teacher forced.

        The mean runs over all 27 positions of every sequence. Positions where the grammar allows only
        one token (the padding after the output, the op of vertex 6) have probability 1 and cost
        exactly 0, so a short cell is not penalised for its padding, and the loss of a cell is its
        sequence NLL divided by 27. A target that is not grammatical gives :math:`+\infty`.

        Args:
            z (torch.Tensor): embeddings ``(B, D)``.
            tokens (torch.Tensor): target sequences, long ``(B, 27)``.

        Returns:
            torch.Tensor: a scalar.
        """
        return self._nll(self.decoder(z, tokens), tokens)

    def _tokens_of(self, batch: Data) -> Tensor:
        tokens = getattr(batch, "tokens", None)
        num_graphs = int(getattr(batch, "num_graphs", 1) or 1)
        if tokens is not None:
            if tokens.dim() != 2 or tuple(tokens.shape) != (num_graphs, SEQ_LEN):
                raise ValueError(f"batch.tokens must have shape ({num_graphs}, {SEQ_LEN}), "
                                 f"got {tuple(tokens.shape)}")
            return tokens
        graphs = batch.to_data_list() if hasattr(batch, "to_data_list") else [batch]
        rows = []
        for index, graph in enumerate(graphs):
            spec = ArchSpec.from_data(graph)
            if spec.was_pruned:
                raise ValueError(f"graph {index} of the batch is not a pruned cell, so it has no token "
                                 "sequence of its own; prune it or attach `tokens`")
            rows.append(spec.to_tokens())
        return torch.tensor(rows, dtype=torch.long, device=batch.x.device)

    def forward(self, batch: Data, target: Tensor | None = None) -> dict[str, Tensor]:
        r"""Encodes, predicts and reconstructs a batch, with the joint loss.

        Args:
            batch (torch_geometric.data.Data or Batch): the cells, with ``x``, ``edge_index``,
                ``batch`` and, optionally, the target sequences ``tokens`` ``(B, 27)`` (as made by
                :func:`~gnnas.nn.utils.cells_to_batch`); without ``tokens`` they are computed from the
                graphs, which must then be pruned cells. A ``grammar_mask`` attribute, bool
                ``(B, 27, 7)`` (:func:`~gnnas.nn.grammar.grammar_mask` of the tokens, e.g. attached
                to each cell's graph once and collated), is passed to the decoder instead of being
                computed again.
            target (torch.Tensor, optional): the targets of the predictor, ``(B,)``.
                (default: :obj:`None`)

        Returns:
            dict[str, torch.Tensor]: ``z`` ``(B, D)``, ``prediction`` ``(B,)``, ``log_probs``
            ``(B, 27, 7)``, ``nll`` (:meth:`reconstruction_loss`), ``mse`` (only with ``target``) and
            ``loss``: :math:`\lambda \cdot \mathrm{mse} + (1 - \lambda) \cdot \mathrm{nll}` with a
            target, ``nll`` without.

        Raises:
            ValueError: if ``target`` or ``batch.tokens`` has the wrong shape.
        """
        z = self.encode(batch)
        tokens = self._tokens_of(batch)
        mask = getattr(batch, "grammar_mask", None)
        log_probs = self.decoder(z, tokens) if mask is None else self.decoder(z, tokens, mask)
        nll = self._nll(log_probs, tokens)
        prediction = self.predict(z)
        out = {"z": z, "prediction": prediction, "log_probs": log_probs, "nll": nll, "loss": nll}
        if target is not None:
            target = torch.as_tensor(target, dtype=prediction.dtype, device=prediction.device)
            if target.shape != prediction.shape:
                raise ValueError(f"target must have shape {tuple(prediction.shape)}, "
                                 f"got {tuple(target.shape)}")
            mse = F.mse_loss(prediction, target)
            out["mse"] = mse
            out["loss"] = self.trade_off * mse + (1.0 - self.trade_off) * nll
        return out

    # ------------------------------------------------------------------ search
    def move(self, z: Tensor, step_size: float | Tensor) -> Tensor:
        r"""NAO's move: one step along the gradient of the predictor.

        .. math::
            \mathbf{z}' = \mathbf{z} + \eta\, \nabla_{\mathbf{z}} f_p(\mathbf{z})

        then L2-normalised when ``normalize=True``. The predictor runs in evaluation mode.

        Args:
            z (torch.Tensor): embeddings ``(B, D)``.
            step_size (float or torch.Tensor): :math:`\eta`, a number or one per cell ``(B,)``.
                Negative values descend.

        Returns:
            torch.Tensor: the moved embeddings ``(B, D)``, detached.

        Raises:
            ValueError: if ``step_size`` is neither a number nor of shape ``(B,)``.
        """
        step = torch.as_tensor(step_size, dtype=z.dtype, device=z.device)
        if step.dim() == 1:
            if step.shape[0] != z.shape[0]:
                raise ValueError(f"step_size must be a number or have shape ({z.shape[0]},), "
                                 f"got {tuple(step.shape)}")
            step = step.unsqueeze(1)
        elif step.dim() != 0:
            raise ValueError(f"step_size must be a number or have shape ({z.shape[0]},), "
                             f"got {tuple(step.shape)}")
        was_training = self.predictor.training
        self.predictor.eval()
        try:
            with torch.enable_grad():
                z = z.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(self.predictor(z).sum(), z)
        finally:
            self.predictor.train(was_training)
        moved = z.detach() + step * grad
        return F.normalize(moved, p=2.0, dim=-1) if self.normalize else moved

    def generate(self, cells: Sequence[ArchSpec] | CellArray | Data, step_size: float | Tensor,
                 greedy: bool = True, generator: torch.Generator | None = None) -> list[ArchSpec]:
        """Proposes new cells: encode, :meth:`move` along the predictor's gradient, decode.

        The networks run in evaluation mode (dropout off) and their mode is restored afterwards.

        Args:
            cells (Sequence[ArchSpec], CellArray or torch_geometric.data.Data): the seed cells.
            step_size (float or torch.Tensor): the step :math:`\\eta` (NAO raises it 1, 2, ... until
                new cells come out), a number or one per cell.
            greedy (bool, optional): greedy decoding instead of sampling. (default: :obj:`True`)
            generator (torch.Generator, optional): random generator for sampling. (default: :obj:`None`)

        Returns:
            list[ArchSpec]: one valid cell per seed (possibly the seed itself, or a duplicate).
        """
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                z = self.encode(cells)
            return self.decode(self.move(z, step_size), greedy=greedy, generator=generator)
        finally:
            self.train(was_training)

    # ------------------------------------------------------------------ persistence
    def get_config(self) -> dict[str, Any]:
        """Returns the configuration that :meth:`save` writes.

        Returns:
            dict: ``trade_off``, ``normalize``, and for ``encoder``, ``decoder`` and ``predictor``
            the ``class`` and constructor ``kwargs`` of each part.

        Raises:
            ValueError: if a part has no ``get_config()`` method.
        """
        config: dict[str, Any] = {"trade_off": self.trade_off, "normalize": self.normalize}
        for name in ("encoder", "decoder", "predictor"):
            part = getattr(self, name)
            if not callable(getattr(part, "get_config", None)):
                raise ValueError(f"the {name} ({type(part).__name__}) has no get_config(); "
                                 "it cannot be saved with its configuration")
            config[name] = {"class": _class_name(type(part)), "kwargs": part.get_config()}
        return config

    def save(self, path: str | os.PathLike) -> None:
        """Saves the configuration and the weights to ``path``, with a checksum beside it.

        The file holds only tensors and plain values (:func:`gnnas.files.save_torch`): the weights,
        and each part's class name and constructor arguments. It is written atomically, and
        ``path.sha256`` lets :meth:`load` detect a damaged file.

        Args:
            path (str or os.PathLike): the file to write.

        Raises:
            ValueError: if a part has no ``get_config()``.
            gnnas.files.WriteError: if the file cannot be written (a full disk).
        """
        save_torch({"format": _FORMAT, "version": 1, "config": self.get_config(),
                    "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()}}, path)

    @classmethod
    def load(cls, path: str | os.PathLike, map_location: str | torch.device | None = "cpu",
             classes: Sequence[type[nn.Module]] = (), sha256: str | None = None) -> NAOController:
        """Builds a controller from a file written by :meth:`save`.

        Loading never runs code from the file or imports a module it names: the checksum beside
        the file is verified, the file is read with ``torch.load(weights_only=True)``, and each part
        is built from :data:`PART_CLASSES` (the gnnas encoder, decoder and predictor) or from the
        classes passed in ``classes``. The parts are first built without memory (on PyTorch's
        ``meta`` device) and their shapes compared with the saved weights, so arguments that do
        not fit the weights (such as an enormous width) are refused before anything is allocated.
        (Files of gnnas 0.1.0 have no checksum file: create one with ``sha256sum`` if you trust
        them.)

        Args:
            path (str or os.PathLike): the file.
            map_location (str or torch.device, optional): where to load the weights.
                (default: :obj:`'cpu'`)
            classes (Sequence[type], optional): part classes of your own that the file may name (as
                ``module:QualName``, the way :meth:`save` records a class outside gnnas).
                (default: :obj:`()`)
            sha256 (str, optional): the file's expected SHA-256 digest, checked instead of the
                checksum file beside it (for files whose digest is recorded elsewhere).
                (default: :obj:`None`)

        Returns:
            NAOController: the controller, in training mode.

        Raises:
            FileNotFoundError: if there is no such file.
            gnnas.files.DamagedFileError: naming the file, if its checksum is missing or does not
                match, if it is not a saved controller, if it names a class that is neither a gnnas
                part nor in ``classes``, or if the saved arguments and weights do not fit.
        """
        checkpoint = load_torch(path, map_location=map_location, sha256=sha256)
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != _FORMAT:
            raise DamagedFileError(path, "not a saved NAOController")
        config, state = checkpoint.get("config"), checkpoint.get("state_dict")
        if not isinstance(config, dict) or not isinstance(state, dict) or not all(
                isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items()):
            raise DamagedFileError(path, "not a saved NAOController (no configuration or weights)")
        known = {**PART_CLASSES, **{f"{c.__module__}:{c.__qualname__}": c for c in classes}}
        specs = {}
        for name in ("encoder", "decoder", "predictor"):
            class_name, kwargs = _check_kwargs(path, name, config.get(name))
            if class_name not in known:
                raise DamagedFileError(
                    path, f"the {name} class {class_name!r} is not a gnnas part class "
                    f"({', '.join(PART_CLASSES)}); a class of your own must be passed to "
                    "NAOController.load(path, classes=[...]), nothing is imported")
            specs[name] = (known[class_name], kwargs)

        def build() -> NAOController:
            try:
                parts = {name: part(**kwargs) for name, (part, kwargs) in specs.items()}
                return cls(**parts, trade_off=config.get("trade_off", 0.5),
                           normalize=bool(config.get("normalize", True)))
            except (TypeError, ValueError, RuntimeError, OverflowError) as error:
                text = str(error).strip()
                reason = text.splitlines()[0][:200] if text else type(error).__name__
                raise DamagedFileError(path, f"the saved configuration does not build a controller "
                                       f"({reason})") from None

        with torch.device("meta"):  # no memory yet: the saved weights decide what is allocated
            shapes = build()
        _check_fit(path, shapes, state)
        controller = build()
        try:
            controller.load_state_dict(state)
        except (RuntimeError, ValueError) as error:
            reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
            raise DamagedFileError(path, f"the saved weights do not fit ({reason})") from None
        return controller.to(map_location) if map_location is not None else controller

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(\n  encoder={self.encoder},\n  decoder={self.decoder},\n"
                f"  predictor={self.predictor},\n  trade_off={self.trade_off}, normalize={self.normalize}\n)")
