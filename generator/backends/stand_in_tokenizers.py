"""Stand-ins for the tokenizers of the text encoders the families use (CLIP, T5, Llama 3,
LLaVA-Llama-3), made from generated vocabularies, never downloaded: for the tiny pipelines
and the full-size random-weight ones, whose text encoders are random too (any token ids
do)."""

from __future__ import annotations

import re
from typing import Any

from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import DEFAULT_PROMPT_TEMPLATE
from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_image2video import (
    DEFAULT_PROMPT_TEMPLATE as I2V_PROMPT_TEMPLATE,
)
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordLevel, WordPiece
from transformers import CLIPTokenizer, PreTrainedTokenizerFast


def clip_tokenizer() -> CLIPTokenizer:
    """A byte-level BPE CLIP tokenizer with no merges: every byte is a token, with and
    without the end-of-word suffix."""
    symbols = list(_bytes_to_unicode().values())
    vocab = {symbol: i for i, symbol in enumerate(symbols)}
    vocab.update({f"{symbol}</w>": len(symbols) + i for i, symbol in enumerate(symbols)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)

def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table, which byte-level BPE vocabularies use."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return dict(sorted(table.items()))

def t5_tokenizer() -> PreTrainedTokenizerFast:
    """A stand-in for the T5 tokenizer: one token per character (lowercased ASCII), so that
    different prompts still give different embeddings; `</s>` appended like T5 does."""
    specials = ["<pad>", "</s>", "<unk>"]
    chars = [chr(c) for c in range(ord("!"), ord("~") + 1) if not chr(c).isupper()]
    vocab = {token: i for i, token in enumerate([*specials, *chars])}
    backend = Tokenizer(WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split("", behavior="isolated")]
    )
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=512,
    )

#: Llama 3's pre-tokenizer split: contractions, words, numbers of up to three digits,
#: punctuation, newlines, spaces.
_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_LLAMA3_SPECIALS = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
)

#: The token LLaVA replaces with the picture's embeddings.
IMAGE_TOKEN = "<image>"


def llama_tokenizer() -> PreTrainedTokenizerFast:
    """A stand-in for HunyuanVideo's Llama 3 tokenizer that works with the pipeline's default
    prompt template.

    The pipeline wraps the prompt in a chat template and crops its first `crop_start` (95)
    tokens, the system part, off the embeddings. So every piece of that template (split as
    Llama 3 splits text) is one token here, which makes the system part 95 tokens long as
    with the real tokenizer; anything else is spelt out byte by byte.
    """
    return _template_tokenizer(DEFAULT_PROMPT_TEMPLATE, _LLAMA3_SPECIALS)


def llava_llama_tokenizer() -> PreTrainedTokenizerFast:
    """A stand-in for HunyuanVideo-I2V's LLaVA-Llama-3 tokenizer, made as `llama_tokenizer`
    from the image-to-video template: its system part is 103 tokens with `<image>` the sixth
    (where the pipeline puts the picture's 576 embeddings), as with the real one."""
    tokenizer = _template_tokenizer(I2V_PROMPT_TEMPLATE, (*_LLAMA3_SPECIALS, IMAGE_TOKEN))
    template = str(I2V_PROMPT_TEMPLATE["template"])
    ids = tokenizer(template[: template.index("{}")]).input_ids
    if ids.index(tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)) != \
            I2V_PROMPT_TEMPLATE["image_emb_start"]:
        raise RuntimeError("the stand-in LLaVA tokenizer no longer fits HunyuanVideo-I2V's "
                           "template")
    return tokenizer


def _template_tokenizer(prompt_template: dict[str, Any],
                        specials_kept: tuple[str, ...]) -> PreTrainedTokenizerFast:
    """A Llama 3-style tokenizer in which every piece of `prompt_template` is one token (and
    each of `specials_kept`), so that its system part is `crop_start` tokens long."""
    pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_LLAMA3_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    template = str(prompt_template["template"])
    specials = "|".join(re.escape(token) for token in specials_kept)
    words = [
        piece
        for text in re.split(specials, template.format(""))
        for piece, _ in pre_tokenizer.pre_tokenize_str(text)
    ]
    symbols = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for token in [*symbols, *(f"##{s}" for s in symbols), *words, "<unk>", *specials_kept]:
        vocab.setdefault(token, len(vocab))
    # WordPiece: a template word is matched whole, any other piece falls back to its bytes
    # (pieces over 100 bytes become <unk>).
    backend = Tokenizer(WordPiece(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizer
    backend.decoder = decoders.Sequence([decoders.Replace("##", ""), decoders.ByteLevel()])
    backend.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A",
        pair="<|begin_of_text|> $A <|begin_of_text|> $B",
        special_tokens=[("<|begin_of_text|>", vocab["<|begin_of_text|>"])],
    )
    backend.add_special_tokens(["<unk>", *specials_kept])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|begin_of_text|>",
        eos_token="<|end_of_text|>",
        pad_token="<|end_of_text|>",
        unk_token="<unk>",
        model_max_length=2048,
    )
    system_part = template[: template.index("{}")]
    if len(tokenizer(system_part).input_ids) != prompt_template["crop_start"]:
        raise RuntimeError("the stand-in Llama tokenizer no longer fits HunyuanVideo's template")
    return tokenizer
