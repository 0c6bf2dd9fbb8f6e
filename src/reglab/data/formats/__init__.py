"""Readers for the file formats datasets come in: IDX, Keras' .npz, the Boston CSV,
and scikit-learn's bundled sets. Each checks its input and names the file when it fails."""
