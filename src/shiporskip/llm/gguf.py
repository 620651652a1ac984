"""A local GGUF model run in-process by llama-cpp-python (the optional `local` extra).

The model is a path, or a Hugging Face file (`hf:owner/repo/file.gguf`) downloaded once into
the data dir. llama.cpp is not thread-safe, so calls are serialised on one lock and run in
a worker thread to keep the event loop free.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from shiporskip.llm.base import (
    Completion,
    CompletionRequest,
    PermanentError,
    Provider,
    clamp_lengths,
)

EXTRA_HINT = "install the local extra: `uv sync --extra local` or `pip install 'shiporskip[local]'`"


def resolve_model_file(spec: str, models_dir: Path) -> Path:
    """A local path as is; `hf:owner/repo/file.gguf` downloaded once into `models_dir`."""
    if not spec.startswith("hf:"):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise PermanentError(
                f"GGUF model file {path} does not exist; "
                "set SHIPORSKIP_MODEL=gguf:/path/to/model.gguf"
            )
        return path
    owner, _, rest = spec.removeprefix("hf:").partition("/")
    repo, _, filename = rest.partition("/")
    if not (owner and repo and filename.endswith(".gguf")):
        raise PermanentError(
            f"cannot read {spec!r}; write gguf:hf:OWNER/REPO/FILE.gguf, "
            "e.g. gguf:hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"
        )
    target = models_dir / owner / repo / filename
    if target.is_file():
        return target
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise PermanentError(f"downloading {spec} needs huggingface_hub; {EXTRA_HINT}") from None
    try:
        downloaded = hf_hub_download(
            repo_id=f"{owner}/{repo}", filename=filename, local_dir=target.parent
        )
    except Exception as exc:
        raise PermanentError(
            f"could not download {filename} from huggingface.co/{owner}/{repo} "
            f"({type(exc).__name__}); "
            f"if this machine is offline, copy the file to {target} yourself or point "
            "SHIPORSKIP_MODEL at a local file: gguf:/path/to/model.gguf"
        ) from None
    return Path(downloaded)


class LocalGGUF(Provider):
    kind = "gguf"
    is_local = True

    def __init__(self, model: str, *, models_dir: Path, n_ctx: int = 8192) -> None:
        super().__init__(model)
        self.models_dir = models_dir
        self.n_ctx = n_ctx
        self._llm: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise PermanentError(
                    f"the gguf provider needs llama-cpp-python; {EXTRA_HINT}"
                ) from None
            path = resolve_model_file(self.model, self.models_dir)
            self._llm = Llama(model_path=str(path), n_ctx=self.n_ctx, verbose=False)
        return self._llm

    def _run(self, request: CompletionRequest) -> Completion:
        with self._lock:
            llm = self._load()
            messages = [{"role": "system", "content": request.system}]
            messages += [{"role": m.role, "content": m.content} for m in request.messages]
            kwargs: dict[str, Any] = {}
            if request.schema is not None:
                kwargs["response_format"] = {
                    "type": "json_object",
                    "schema": clamp_lengths(request.schema),
                }
            result = llm.create_chat_completion(
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                **kwargs,
            )
        choice = result["choices"][0]
        usage = result.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            model=Path(self.model).name,
            input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )

    async def complete(self, request: CompletionRequest) -> Completion:
        return await asyncio.to_thread(self._run, request)
