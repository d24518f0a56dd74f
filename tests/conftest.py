"""Shared test settings: never touch the network, always use the TensorFlow backend."""

import os

os.environ["ARTLIB_OFFLINE"] = "1"
os.environ["KERAS_BACKEND"] = "tensorflow"
