"""Label Studio tasks JSON: images and texts with people's annotations and models' predictions.

Results: ``rectanglelabels`` (with rotation), ``polygonlabels``, ``brushlabels`` (Label
Studio's brush RLE), ``keypointlabels``, ``labels`` (text spans) and ``choices``, in percent
coordinates of ``original_width``/``original_height``. Provenance: author, created time, lead
time, gold (``ground_truth``), model version. A labeling config listing the classes is written
beside the tasks, ready for a Label Studio project.
"""

from labelgate.formats.label_studio.codec import CODEC, LabelStudioCodec

__all__ = ["CODEC", "LabelStudioCodec"]
