"""A tiny llama-architecture GGUF model, built on the spot, for end-to-end tests.

No model is downloaded anywhere: the tests build a ~300 KB model with the `gguf` package
and run it through llama.cpp (via llama-cpp-python). Its weights are random, so it
writes nonsense, but it is a real model: the real tokenizer, sampler and grammar
(JSON schema) machinery run on it.

Tokenizer: SentencePiece-style ("llama") vocabulary of single characters:
``<unk>``, ``<s>``, ``</s>``, the 256 byte-fallback tokens ``<0x00>``..``<0xFF>``,
``▁`` (space) and every printable ASCII character. Any text tokenizes (byte fallback).

Bias: purely random weights ramble inside JSON strings until the token limit. So the
residual stream carries a constant "bias channel" (dimension 0 of every token
embedding is 1 and no layer writes to it) and the output head reads a per-token bias
from it. That gives the logits a fixed offset per token on top of the random,
context-dependent part: towards ``"``, ``}``, ``]``, ``,`` and EOS (strings, arrays and
objects close after a few characters), away from control and non-ASCII bytes (which
would make invalid JSON or UTF-8), ``\\``, ``-`` and further digits (llama.cpp's
grammar does not enforce ``minimum``/``maximum``, so integers stay short).
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

ARCH = "llama"
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 4
N_LAYER = 2
N_FF = 128
N_CTX_TRAIN = 2048
RMS_EPS = 1e-5

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SPACE_PIECE = "\u2581"  # SentencePiece's "▁", the space marker

# Logit offsets (the random part of a logit has a standard deviation of about 1).
CLOSERS = {'"': 3.0, "}": 3.0, "]": 3.0, ",": 2.0}
EOS_BIAS = 6.0
DIGIT_BIAS = -2.5
AVOID = {"\\": -8.0, "-": -6.0}
NON_PRINTABLE_BIAS = -12.0  # control bytes and bytes >= 0x80
SPACE_BIAS = -1.0


def _vocab() -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    tokens.append(SPACE_PIECE)
    tokens += [chr(c) for c in range(0x21, 0x7F)]
    types += [gguf.TokenType.NORMAL] * (1 + 0x7F - 0x21)
    scores = [0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(len(tokens) - 259)]
    return tokens, scores, [int(t) for t in types]


def _token_bias(tokens: list[str]) -> np.ndarray:
    bias = np.zeros(len(tokens), dtype=np.float32)
    bias[UNK_ID] = -20.0
    bias[BOS_ID] = -20.0
    bias[EOS_ID] = EOS_BIAS
    for i, piece in enumerate(tokens):
        if piece.startswith("<0x") and len(piece) == 6:
            byte = int(piece[3:5], 16)
            # Byte tokens are only a fallback: the printable ones have their own piece.
            bias[i] = NON_PRINTABLE_BIAS if byte < 0x20 or byte >= 0x7F else -4.0
        elif piece == SPACE_PIECE:
            bias[i] = SPACE_BIAS
        elif piece in CLOSERS:
            bias[i] = CLOSERS[piece]
        elif piece in AVOID:
            bias[i] = AVOID[piece]
        elif piece.isdigit():
            bias[i] = DIGIT_BIAS
    return bias


def build_tiny_gguf(path: Path, seed: int = 1234) -> Path:
    """Write the tiny model to ``path`` and return it. Same seed, same bytes."""
    rng = np.random.default_rng(seed)
    tokens, scores, types = _vocab()
    n_vocab = len(tokens)
    head_dim = N_EMBD // N_HEAD

    def normal(shape: tuple[int, ...], std: float) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    # Dimension 0 is the bias channel: 1 in every embedding, never written by a layer.
    token_embd = normal((n_vocab, N_EMBD), 1.0)
    token_embd[:, 0] = 1.0
    output = normal((n_vocab, N_EMBD), 0.12)
    output[:, 0] = _token_bias(tokens)

    writer = gguf.GGUFWriter(str(path), ARCH)
    writer.add_name("shiporskip-tiny-test-model")
    writer.add_context_length(N_CTX_TRAIN)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(RMS_EPS)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_unk_token_id(UNK_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    # numpy shape is (rows = outputs, cols = inputs); gguf stores the reverse as ne.
    writer.add_tensor("token_embd.weight", token_embd)
    for i in range(N_LAYER):
        attn_output = normal((N_EMBD, N_EMBD), 0.05)
        attn_output[0, :] = 0.0
        ffn_down = normal((N_EMBD, N_FF), 0.05)
        ffn_down[0, :] = 0.0
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", normal((N_EMBD, N_EMBD), 0.2))
        writer.add_tensor(f"blk.{i}.attn_k.weight", normal((N_EMBD, N_EMBD), 0.2))
        writer.add_tensor(f"blk.{i}.attn_v.weight", normal((N_EMBD, N_EMBD), 0.2))
        writer.add_tensor(f"blk.{i}.attn_output.weight", attn_output)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", normal((N_FF, N_EMBD), 0.2))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", normal((N_FF, N_EMBD), 0.2))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", ffn_down)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
