#!/usr/bin/python3
"""Writes the tiny-BERT test fixtures that prove the TypeScript converter against an independent implementation.

For developers only (users never need Python). Run from the repository root:

    apt-get update && apt-get install -y python3-torch python3-numpy   # Debian's torch, seen by /usr/bin/python3
    /usr/bin/python3 scripts/make-tiny-bert.py [--shared ../shared]

Debian bookworm ships neither `transformers`, `tokenizers` nor `safetensors` for Python, so this script carries its
own independent implementations, written from the Hugging Face definitions:
  * a BERT forward (BertModel math: word+position+token-type embeddings, LayerNorm(eps), N layers of masked
    scaled-dot-product self-attention with the mask added as finfo.min, output dense + residual + LayerNorm,
    exact (erf) GELU FFN + residual + LayerNorm), computed in float64 from the float32 weights;
  * the BERT BasicTokenizer + WordPiece (clean text, CJK spacing, lowercase, strip accents, split on whitespace and
    punctuation, greedy longest-match-first with `##`, [UNK] for words over 100 chars) from vocab.txt;
  * a safetensors writer (8-byte LE header length, JSON header, raw little-endian data).

Outputs (all committed; total < 5 MB):
  test/fixtures/tiny-bert/config.json           HF BertConfig (hidden 16, 2 layers, 4 heads, FFN 64, vocab 30522)
  test/fixtures/tiny-bert/model.safetensors     the weights (float32, plus the int64 `embeddings.position_ids`)
  test/fixtures/tiny-bert/pytorch_model.bin     the same weights via torch.save (zip+pickle); one weight is saved as a
                                                non-contiguous (transposed) view, two biases share one storage at an
                                                offset, so the reader's stride/offset handling is exercised
  test/fixtures/tiny-bert/reference.json        sentences, input_ids, attention_mask, last_hidden_state (float64
                                                reference, flat with shape) and tokenizer_reference (ids of more
                                                real PubMed sentences for the TypeScript tokenizer's test)
  test/fixtures/tiny-bert/tokenizer.json, tokenizer_config.json, special_tokens_map.json
                                                copied from ../shared/tokenizers/bge-base-en-v1.5
  test/fixtures/tiny-bert/pickle/dtypes.bin + dtypes.json   tensors of every storage dtype, a Parameter, a permuted
                                                view and a sliced view, with their expected values
  test/fixtures/tiny-bert/pickle/malicious-os-system.bin    torch.save of an object whose unpickling would call
                                                os.system (posix.system): the reader must refuse it
  test/fixtures/tiny-bert/pickle/malicious-eval.bin         a hand-written data.pkl calling builtins.eval
  test/fixtures/tiny-bert/pickle/legacy.bin                 the legacy (non-zip) torch.save format
  test/fixtures/tiny-lora/adapter_config.json + adapter_model.safetensors   a PEFT LoRA adapter (r 4, alpha 8,
                                                query+value) on tiny-bert, PEFT key names
  test/fixtures/tiny-lora/reference.json        last_hidden_state of tiny-bert with the adapter merged in torch
                                                (W + alpha/r * B @ A), same inputs as tiny-bert
"""
import argparse
import io
import json
import math
import os
import shutil
import struct
import sys
import unicodedata
import zipfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "vocab_size": 30522,
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "torch_dtype": "float32",
    "use_cache": True,
}

# Real PubMed sentences (../shared/data/pubmed: pubmedqa-pqal-dev.json, medline16n0902.xml.gz,
# mesh-papers.medline.txt) with Greek letters, units, hyphenated gene names, accents and symbols.
MODEL_SENTENCES = [
    "Human amnion mesenchymal cells inhibit lipopolysaccharide-induced TNF-α and IL-1β production in THP-1 cells.",
    "Baseline IL-6 (9.2±2.17 pg ml(-1)) increased during IR and peaked at 60 min of reperfusion (+228%, p<0.0001).",
    "The mean values of biochemical markers were: bone ALP, 15.0 ± 5.2 ng/mL; PINP, 56.2 ± 21.9 μg/mL; and sCTX, 0.58 ± 0.26 ng/mL.",
    "Groups 3 and 4 received 6 and 12 mg/kg edaravone, respectively, by the intraperitoneal route for 10 min before pneumoperitoneum.",
    "To investigate the impact of solid culture on Löwenstein-Jensen medium on clinical decision making.",
    "Interrater agreement was assessed by using κ statistics.",
]
EXTRA_TOKENIZER_SENTENCES = [
    "Cytokine production by innate and adaptive immune cells was largely intact in MDA5(-/-) mice, but perforin induction by natural killer cells and levels of interferon gamma, interleukin-6 (IL-6), and tumor necrosis factor alpha (TNF-α) in serum were elevated.",
    "Infliximab, a chimeric monoclonal anti-TNFα antibody, has been found to increase the risk of serious infections compared with the TNF receptor fusion protein etanercept in some studies.",
    "Assisted hydrolysis by exogenous α-galactosidase enzyme (AG) could offer a way of controlling IBS symptoms by reducing colonic fermentation and gas production.",
    "Twenty-eight patients (32 knees) underwent débridement with retention of component, and 32 patients (32 knees) were treated with component removal and two-stage revision surgery.",
    "The 83 reviews by cited reviewers (8.3%) had a mean score of 2.8 (SD 1.4); the 916 reviews by noncited reviewers (91.7%), 2.5 (1.2; Δ=0.3; 95% confidence interval [CI] 0 to 0.6).",
    "To determine whether fibromyalgia (FM) is more common in patients with primary Sjögren's syndrome (pSS) who complain of fatigue.",
    "The lavage fluid was assayed for pH and the FAC, as well as for the cytokines interleukin-6 (IL-6), interferon-γ, monocyte chemotactic protein (MCP), and macrophage inhibitory protein-1β.",
    "Mice were given 2.5 mg/kg dexamethasone i.p. daily (n = 8 per group).",
]


# ------------------------------------------------------------------------------------------------------------------
# BERT BasicTokenizer + WordPiece (independent re-implementation of HF's BertTokenizer, uncased).

def _is_whitespace(c):
    if c in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(c) == "Zs"


def _is_control(c):
    if c in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(c).startswith("C")


def _is_punctuation(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    def __init__(self, vocab_file):
        with open(vocab_file, encoding="utf-8") as f:
            self.vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}

    def basic(self, text):
        out = []
        for c in text:
            cp = ord(c)
            if cp == 0 or cp == 0xFFFD or _is_control(c):
                continue
            if _is_whitespace(c):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(" " + c + " ")
            else:
                out.append(c)
        words = []
        for tok in "".join(out).strip().split():
            tok = tok.lower()
            tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
            cur = ""
            for c in tok:
                if _is_punctuation(c):
                    if cur:
                        words.append(cur)
                    words.append(c)
                    cur = ""
                else:
                    cur += c
            if cur:
                words.append(cur)
        return words

    def wordpiece(self, word):
        if len(word) > 100:
            return [self.vocab["[UNK]"]]
        ids, start = [], 0
        while start < len(word):
            end, cur = len(word), None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = "##" + sub
                if sub in self.vocab:
                    cur = self.vocab[sub]
                    break
                end -= 1
            if cur is None:
                return [self.vocab["[UNK]"]]
            ids.append(cur)
            start = end
        return ids

    def encode(self, text):
        ids = [self.vocab["[CLS]"]]
        for w in self.basic(text):
            ids.extend(self.wordpiece(w))
        ids.append(self.vocab["[SEP]"])
        return ids[:512] if len(ids) <= 512 else ids[:511] + [self.vocab["[SEP]"]]


# ------------------------------------------------------------------------------------------------------------------
# Weights and an independent BertModel forward.

def make_weights(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    h, f, v, p, t = (cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"],
                     cfg["max_position_embeddings"], cfg["type_vocab_size"])

    def rn(*shape, std=1.0):
        return (torch.randn(*shape, generator=g) * std).float()

    sd = {}
    sd["embeddings.word_embeddings.weight"] = rn(v, h, std=0.5)
    sd["embeddings.position_embeddings.weight"] = rn(p, h, std=0.3)
    sd["embeddings.token_type_embeddings.weight"] = rn(t, h, std=0.3)
    sd["embeddings.LayerNorm.weight"] = 1 + rn(h, std=0.1)
    sd["embeddings.LayerNorm.bias"] = rn(h, std=0.1)
    for i in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{i}."
        for m in ("query", "key", "value"):
            sd[pre + f"attention.self.{m}.weight"] = rn(h, h, std=1 / math.sqrt(h))
            sd[pre + f"attention.self.{m}.bias"] = rn(h, std=0.1)
        sd[pre + "attention.output.dense.weight"] = rn(h, h, std=1 / math.sqrt(h))
        sd[pre + "attention.output.dense.bias"] = rn(h, std=0.1)
        sd[pre + "attention.output.LayerNorm.weight"] = 1 + rn(h, std=0.1)
        sd[pre + "attention.output.LayerNorm.bias"] = rn(h, std=0.1)
        sd[pre + "intermediate.dense.weight"] = rn(f, h, std=1 / math.sqrt(h))
        sd[pre + "intermediate.dense.bias"] = rn(f, std=0.1)
        sd[pre + "output.dense.weight"] = rn(h, f, std=1 / math.sqrt(f))
        sd[pre + "output.dense.bias"] = rn(h, std=0.1)
        sd[pre + "output.LayerNorm.weight"] = 1 + rn(h, std=0.1)
        sd[pre + "output.LayerNorm.bias"] = rn(h, std=0.1)
    sd["pooler.dense.weight"] = rn(h, h, std=1 / math.sqrt(h))
    sd["pooler.dense.bias"] = rn(h, std=0.1)
    sd["embeddings.position_ids"] = torch.arange(p, dtype=torch.int64).unsqueeze(0)
    return sd


def bert_forward(sd, cfg, input_ids, attention_mask):
    """HF BertModel.forward (eval mode), in float64. Returns last_hidden_state [B, T, H]."""
    W = {k: (v.double() if v.is_floating_point() else v) for k, v in sd.items()}
    eps = cfg["layer_norm_eps"]
    nh = cfg["num_attention_heads"]
    h = cfg["hidden_size"]
    hd = h // nh
    B, T = input_ids.shape

    def ln(x, pre):
        return torch.nn.functional.layer_norm(x, (h,), W[pre + ".weight"], W[pre + ".bias"], eps)

    def lin(x, pre):
        return x @ W[pre + ".weight"].T + W[pre + ".bias"]

    pos = torch.arange(T).unsqueeze(0).expand(B, T)
    tt = torch.zeros_like(input_ids)
    x = (W["embeddings.word_embeddings.weight"][input_ids] + W["embeddings.position_embeddings.weight"][pos]
         + W["embeddings.token_type_embeddings.weight"][tt])
    x = ln(x, "embeddings.LayerNorm")
    ext = (1.0 - attention_mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
    for i in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{i}."

        def heads(t):
            return t.view(B, T, nh, hd).permute(0, 2, 1, 3)

        q = heads(lin(x, pre + "attention.self.query"))
        k = heads(lin(x, pre + "attention.self.key"))
        v = heads(lin(x, pre + "attention.self.value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + ext
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, T, h)
        x = ln(lin(ctx, pre + "attention.output.dense") + x, pre + "attention.output.LayerNorm")
        inter = lin(x, pre + "intermediate.dense")
        inter = 0.5 * inter * (1.0 + torch.erf(inter / math.sqrt(2.0)))  # exact GELU
        x = ln(lin(inter, pre + "output.dense") + x, pre + "output.LayerNorm")
    return x


def cross_check_with_nn(sd, cfg, input_ids, attention_mask, lhs):
    """Second opinion: the same model assembled from torch.nn.TransformerEncoderLayer (post-LN, exact GELU)."""
    h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    W = {k: v.double() for k, v in sd.items() if v.is_floating_point()}
    B, T = input_ids.shape
    x = (W["embeddings.word_embeddings.weight"][input_ids] + W["embeddings.position_embeddings.weight"][:T][None]
         + W["embeddings.token_type_embeddings.weight"][0])
    x = torch.nn.functional.layer_norm(x, (h,), W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"],
                                       cfg["layer_norm_eps"])
    for i in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{i}."
        layer = torch.nn.TransformerEncoderLayer(h, nh, cfg["intermediate_size"], dropout=0.0, activation="gelu",
                                                 layer_norm_eps=cfg["layer_norm_eps"], batch_first=True).double()
        with torch.no_grad():
            a = pre + "attention.self."
            layer.self_attn.in_proj_weight.copy_(torch.cat([W[a + "query.weight"], W[a + "key.weight"], W[a + "value.weight"]]))
            layer.self_attn.in_proj_bias.copy_(torch.cat([W[a + "query.bias"], W[a + "key.bias"], W[a + "value.bias"]]))
            layer.self_attn.out_proj.weight.copy_(W[pre + "attention.output.dense.weight"])
            layer.self_attn.out_proj.bias.copy_(W[pre + "attention.output.dense.bias"])
            layer.norm1.weight.copy_(W[pre + "attention.output.LayerNorm.weight"])
            layer.norm1.bias.copy_(W[pre + "attention.output.LayerNorm.bias"])
            layer.linear1.weight.copy_(W[pre + "intermediate.dense.weight"])
            layer.linear1.bias.copy_(W[pre + "intermediate.dense.bias"])
            layer.linear2.weight.copy_(W[pre + "output.dense.weight"])
            layer.linear2.bias.copy_(W[pre + "output.dense.bias"])
            layer.norm2.weight.copy_(W[pre + "output.LayerNorm.weight"])
            layer.norm2.bias.copy_(W[pre + "output.LayerNorm.bias"])
        layer.train()  # keeps torch off its nested-tensor fast path; dropout is 0
        x = layer(x, src_key_padding_mask=attention_mask == 0)
    valid = attention_mask.bool()
    err = (x - lhs)[valid].abs().max().item()
    assert err < 1e-9, f"independent forwards disagree: {err}"
    return err


# ------------------------------------------------------------------------------------------------------------------
# safetensors writer.

ST_DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16"}


def write_safetensors(path, tensors, metadata=None):
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        b = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for c in chunks:
            f.write(c)


def flat(t, digits=9):
    return [float(f"{x:.{digits}g}") for x in t.reshape(-1).tolist()]


# ------------------------------------------------------------------------------------------------------------------

class Evil:
    def __reduce__(self):
        return (os.system, ("echo this pickle ran code > /tmp/biohicl-pwned",))


def make_pickle_fixtures(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    base = torch.randn(2, 3, 4, generator=g)
    long_storage = torch.arange(20, dtype=torch.float32)
    tensors = {
        "f32": torch.randn(3, 5, generator=g),
        "f16": torch.randn(4, 3, generator=g).half(),
        "bf16": torch.randn(2, 5, generator=g).bfloat16(),
        "f64": torch.randn(3, generator=g).double(),
        "i64": torch.tensor([[-3, 0, 2**40], [7, -(2**33), 1]], dtype=torch.int64),
        "i32": torch.tensor([1, -2, 2**30], dtype=torch.int32),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "permuted": base.permute(2, 0, 1),            # non-contiguous strides
        "sliced": long_storage[5:17].view(3, 4),      # storage offset 5, shares storage with 'stepped'
        "stepped": long_storage[1::3],                # stride 3, offset 1
        "param": torch.nn.Parameter(torch.randn(2, 2, generator=g)),
    }
    torch.save(tensors, os.path.join(out_dir, "dtypes.bin"))
    expected = {}
    for k, t in tensors.items():
        t = t.detach()
        expected[k] = {
            "shape": list(t.shape),
            "values": [int(x) for x in t.reshape(-1).tolist()] if not t.is_floating_point() and t.dtype != torch.bool
            else [bool(x) for x in t.reshape(-1).tolist()] if t.dtype == torch.bool
            else [float(x) for x in t.float().reshape(-1).tolist()],
            "dtype": str(t.dtype).replace("torch.", ""),
        }
    expected["i64"]["values"] = [str(x) for x in tensors["i64"].reshape(-1).tolist()]  # beyond 2^53-safe JSON ints
    with open(os.path.join(out_dir, "dtypes.json"), "w") as f:
        json.dump(expected, f, indent=1)

    torch.save({"weight": torch.ones(2), "payload": Evil()}, os.path.join(out_dir, "malicious-os-system.bin"))

    # A torch-style zip whose data.pkl is a hand-written protocol-2 pickle: builtins.eval("...").
    code = b"__import__('os').getcwd()"
    pkl = b"\x80\x02" + b"cbuiltins\neval\n" + b"X" + struct.pack("<I", len(code)) + code + b"\x85R."
    with zipfile.ZipFile(os.path.join(out_dir, "malicious-eval.bin"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")

    torch.save({"w": torch.ones(2)}, os.path.join(out_dir, "legacy.bin"), _use_new_zipfile_serialization=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    ap.add_argument("--seed", type=int, default=20261126)
    args = ap.parse_args()
    tok_dir = os.path.join(args.shared, "tokenizers", "bge-base-en-v1.5")
    out = os.path.join(ROOT, "test", "fixtures", "tiny-bert")
    lora_out = os.path.join(ROOT, "test", "fixtures", "tiny-lora")
    os.makedirs(out, exist_ok=True)
    os.makedirs(lora_out, exist_ok=True)

    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(os.path.join(tok_dir, f), os.path.join(out, f))
    tok = WordPiece(os.path.join(tok_dir, "vocab.txt"))

    cfg = CONFIG
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    sd = make_weights(cfg, args.seed)
    write_safetensors(os.path.join(out, "model.safetensors"), sd, {"format": "pt"})

    # pytorch_model.bin: same values; one weight stored as a transposed (non-contiguous) view, two biases as
    # slices of one shared storage (the second at a non-zero storage offset).
    bin_sd = dict(sd)
    qk = "encoder.layer.0.attention.self.query.weight"
    bin_sd[qk] = sd[qk].t().contiguous().t()
    assert not bin_sd[qk].is_contiguous()
    kb, vb = "encoder.layer.1.attention.self.key.bias", "encoder.layer.1.attention.self.value.bias"
    shared = torch.cat([sd[kb], sd[vb]])
    bin_sd[kb], bin_sd[vb] = shared[: cfg["hidden_size"]], shared[cfg["hidden_size"]:]
    torch.save(bin_sd, os.path.join(out, "pytorch_model.bin"))
    reloaded = torch.load(os.path.join(out, "pytorch_model.bin"))
    for k in sd:
        assert torch.equal(reloaded[k], sd[k]), k

    ids = [tok.encode(s) for s in MODEL_SENTENCES]
    T = max(len(x) for x in ids)
    input_ids = torch.tensor([x + [0] * (T - len(x)) for x in ids], dtype=torch.int64)
    mask = torch.tensor([[1] * len(x) + [0] * (T - len(x)) for x in ids], dtype=torch.int64)
    lhs = bert_forward(sd, cfg, input_ids, mask)
    xerr = cross_check_with_nn(sd, cfg, input_ids, mask, lhs)
    ref = {
        "note": "Written by scripts/make-tiny-bert.py (independent PyTorch BertModel forward in float64). "
                "token_type_ids are zeros; padded positions are included in last_hidden_state.",
        "sentences": MODEL_SENTENCES,
        "input_ids": input_ids.tolist(),
        "attention_mask": mask.tolist(),
        "last_hidden_state": {"shape": list(lhs.shape), "data": flat(lhs)},
        "cls": {"shape": [lhs.shape[0], lhs.shape[2]], "data": flat(lhs[:, 0, :])},
        "tokenizer_reference": {
            "tokenizer": "bge-base-en-v1.5 vocab.txt, BERT BasicTokenizer (uncased, strip accents) + WordPiece, "
                         "[CLS] ... [SEP], no padding; independent Python implementation in scripts/make-tiny-bert.py",
            "sentences": MODEL_SENTENCES + EXTRA_TOKENIZER_SENTENCES,
            "input_ids": [tok.encode(s) for s in MODEL_SENTENCES + EXTRA_TOKENIZER_SENTENCES],
        },
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)

    # LoRA adapter (PEFT format) on query + value, and the torch-merged reference.
    r, alpha = 4, 8
    g = torch.Generator().manual_seed(args.seed + 1)
    adapter, merged = {}, dict(sd)
    h = cfg["hidden_size"]
    for i in range(cfg["num_hidden_layers"]):
        for m in ("query", "value"):
            path = f"encoder.layer.{i}.attention.self.{m}"
            A = (torch.randn(r, h, generator=g) * 0.3).float()
            B = (torch.randn(h, r, generator=g) * 0.3).float()
            adapter[f"base_model.model.{path}.lora_A.weight"] = A
            adapter[f"base_model.model.{path}.lora_B.weight"] = B
            merged[path + ".weight"] = (sd[path + ".weight"].double() + (alpha / r) * (B.double() @ A.double())).float()
    write_safetensors(os.path.join(lora_out, "adapter_model.safetensors"), adapter)
    with open(os.path.join(lora_out, "adapter_config.json"), "w") as f:
        json.dump({
            "peft_type": "LORA", "task_type": "FEATURE_EXTRACTION", "auto_mapping": None,
            "base_model_name_or_path": "test/fixtures/tiny-bert", "revision": None, "inference_mode": True,
            "r": r, "lora_alpha": alpha, "lora_dropout": 0.1, "target_modules": ["query", "value"],
            "fan_in_fan_out": False, "bias": "none", "use_rslora": False, "modules_to_save": None,
            "init_lora_weights": True, "layers_to_transform": None, "layers_pattern": None,
            "rank_pattern": {}, "alpha_pattern": {},
        }, f, indent=2)
    lhs_m = bert_forward(merged, cfg, input_ids, mask)
    cross_check_with_nn(merged, cfg, input_ids, mask, lhs_m)
    with open(os.path.join(lora_out, "reference.json"), "w") as f:
        json.dump({
            "note": "tiny-bert with this adapter merged in torch (W + lora_alpha/r * B @ A, float64 forward).",
            "input_ids": input_ids.tolist(), "attention_mask": mask.tolist(),
            "last_hidden_state": {"shape": list(lhs_m.shape), "data": flat(lhs_m)},
            "cls": {"shape": [lhs_m.shape[0], lhs_m.shape[2]], "data": flat(lhs_m[:, 0, :])},
            "merged_weights": {k: {"shape": list(merged[k].shape), "data": flat(merged[k].double())}
                               for k in merged if ".attention.self.query." in k or ".attention.self.value." in k
                               if k.endswith(".weight")},
        }, f)

    make_pickle_fixtures(os.path.join(out, "pickle"))
    total = 0
    for d in (out, lora_out):
        for dp, _, fs in os.walk(d):
            total += sum(os.path.getsize(os.path.join(dp, x)) for x in fs)
    print(f"wrote {out} and {lora_out}: {total / 1e6:.2f} MB; seq len {T}; "
          f"max |lhs| {lhs.abs().max().item():.3f}; nn cross-check max err {xerr:.2e}; max |merged - base| {(lhs_m - lhs).abs().max().item():.3f}")


if __name__ == "__main__":
    sys.exit(main())
