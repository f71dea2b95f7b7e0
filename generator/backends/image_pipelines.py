"""Image to video on diffusers pipelines: which pipeline animates a picture for a loaded
model, and the picture as that pipeline's `image=` argument.

An image-to-video pipeline (WanImageToVideoPipeline, LTXImageToVideoPipeline,
LTXConditionPipeline, CogVideoXImageToVideoPipeline, HunyuanVideoImageToVideoPipeline) takes
`image` itself. A text-to-video pipeline whose weights also animate pictures (Wan 2.2 TI2V
5B's WanPipeline, LTX-Video's LTXPipeline) gets its image-to-video sibling made with
`from_pipe`: the same modules (and their offload, cache and compile hooks), no second copy.
"""

from __future__ import annotations

import inspect
from typing import Any

import diffusers
from PIL import Image as PILImage
from PIL import ImageOps

from generator.backends.base import GenerationFailed, Image
from videobot.families import Family
from videobot.params import RenderRequest

#: Family -> the image-to-video pipeline class that shares its text-to-video weights.
SIBLINGS = {"wan-5b": "WanImageToVideoPipeline", "ltx": "LTXImageToVideoPipeline"}

TEXT_ONLY = "this model makes videos from text only, not from a picture"
PICTURE_NEEDED = "this model animates a picture and needs one with the prompt"


def takes_image(pipe: Any) -> bool:
    """Whether the pipeline's call has an `image` argument."""
    return "image" in inspect.signature(pipe.__call__).parameters


def needs_image(pipe: Any) -> bool:
    """Whether the pipeline cannot render without a picture: its `image` argument has no
    default, or it is an image-to-video class whose default (None) it cannot use."""
    parameter = inspect.signature(pipe.__call__).parameters.get("image")
    if parameter is None:
        return False
    return parameter.default is inspect.Parameter.empty or type(pipe).__name__.endswith(
        "ImageToVideoPipeline")


def pipeline_for_pictures(pipe: Any, family: Family) -> Any:
    """The pipeline that animates a picture with `pipe`'s weights: `pipe` itself if it takes
    one, else its sibling for the family; `GenerationFailed` if the model has none."""
    if takes_image(pipe):
        return pipe
    sibling = SIBLINGS.get(family.name)
    if sibling is None:
        raise GenerationFailed(TEXT_ONLY)
    made = getattr(diffusers, sibling).from_pipe(pipe)
    made.set_progress_bar_config(disable=True)
    return made


def only_size(pipe: Any) -> tuple[int, int] | None:
    """The one (width, height) a pipeline renders, if it has one: CogVideoX-5b-I2V's learned
    position embeddings are made for 720x480 and refuse any other size."""
    config = getattr(getattr(pipe, "transformer", None), "config", None)
    if config is None or not config.get("use_learned_positional_embeddings", False):
        return None
    scale = pipe.vae_scale_factor_spatial
    return config["sample_width"] * scale, config["sample_height"] * scale


def check_size(pipe: Any, request: RenderRequest) -> None:
    """`GenerationFailed` naming the size, for a request a one-size model cannot render."""
    size = only_size(pipe)
    if size is not None and size != (request.width, request.height):
        raise GenerationFailed(f"this model renders only {size[0]}x{size[1]} clips; "
                               f"ask for --width {size[0]} --height {size[1]}")


def pil_image(image: Image, request: RenderRequest) -> PILImage.Image:
    """The picture as the pipeline's `image=`: a PIL image at the request's size (it was fitted
    to the size asked for; a family rounding in the backend may have moved it a little)."""
    picture = PILImage.fromarray(image)
    size = (request.width, request.height)
    if picture.size != size:
        picture = ImageOps.fit(picture, size, PILImage.Resampling.LANCZOS)
    return picture
