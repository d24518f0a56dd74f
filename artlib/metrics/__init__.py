"""Image measures, the shipped Fashion-MNIST classifier, and measures of generated samples.

Which file does what:

* ``images.py`` — :func:`psnr` and :func:`ssim` per image (pixels in [0, 1],
  ``tf.image.ssim`` defaults, checked against scikit-image);
* ``classifier.py`` — the small Fashion-MNIST classifier that measures samples:
  :func:`build_fashion_classifier`, :func:`train_fashion_classifier`,
  :func:`load_fashion_classifier` (the shipped :data:`CLASSIFIER_PATH`), and its
  outputs in one batched pass (:func:`classifier_outputs`, :func:`classifier_features`,
  :func:`classifier_probabilities`); :func:`fashion_batch` checks its input images;
* ``distances.py`` — distances between two sets of features: :func:`frechet_distance`
  (the recipe of FID, on the classifier's features, so not FID) and
  :func:`kernel_distance` (KID);
* ``neighbours.py`` — :func:`nearest_neighbours`, the memory-bounded k-nearest-neighbour
  search that the two files below share;
* ``novelty.py`` — fidelity and diversity with k-NN balls in feature space:
  :func:`prdc` (precision and recall of Kynkäänniemi et al. 2019, density and coverage
  of Naeem et al. 2020) and :func:`knn_radii`; how unsure a classifier is of the
  samples' classes: :func:`class_entropy`, :func:`class_entropies`;
* ``samples.py`` — near-copies and the whole report: :func:`near_copy_threshold`,
  :func:`sample_report`, :func:`timed_report` (a sampler timed and measured), :func:`neighbour_rows`;
* ``table.py`` — :func:`report_table`: several reports side by side, as text;
* ``memo.py`` — :class:`SampleMemo`, which a caller passes to :func:`sample_report`
  as ``memo=`` to keep the training set's features, the threshold and the real
  images' k-NN radii between calls.

``import artlib.metrics`` does not import TensorFlow; the functions that need it do.
"""

from artlib.metrics.classifier import (
    CLASSIFIER_PATH,
    build_fashion_classifier,
    classifier_features,
    classifier_outputs,
    classifier_probabilities,
    fashion_batch,
    load_fashion_classifier,
    train_fashion_classifier,
)
from artlib.metrics.distances import frechet_distance, kernel_distance
from artlib.metrics.table import REPORT_COLUMNS, report_table
from artlib.metrics.images import SSIM_FILTER_SIZE, psnr, ssim
from artlib.metrics.memo import SampleMemo
from artlib.metrics.neighbours import nearest_neighbours
from artlib.metrics.novelty import PRDC_K, class_entropies, class_entropy, knn_radii, prdc
from artlib.metrics.samples import (
    CONFIDENT_PROBABILITY,
    COVERED_SHARE,
    NEAR_COPY_PERCENTILE,
    near_copy_threshold,
    neighbour_rows,
    sample_report,
    timed_report,
)

__all__ = [
    "REPORT_COLUMNS",
    "report_table",
    "psnr",
    "ssim",
    "SSIM_FILTER_SIZE",
    "CLASSIFIER_PATH",
    "fashion_batch",
    "build_fashion_classifier",
    "train_fashion_classifier",
    "load_fashion_classifier",
    "classifier_outputs",
    "classifier_features",
    "classifier_probabilities",
    "frechet_distance",
    "kernel_distance",
    "CONFIDENT_PROBABILITY",
    "COVERED_SHARE",
    "NEAR_COPY_PERCENTILE",
    "nearest_neighbours",
    "PRDC_K",
    "knn_radii",
    "prdc",
    "class_entropies",
    "class_entropy",
    "near_copy_threshold",
    "SampleMemo",
    "sample_report",
    "timed_report",
    "neighbour_rows",
]
