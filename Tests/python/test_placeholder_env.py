import os


def test_binaries_are_built():
    bin_dir = os.environ["BELUGA_BIN_DIR"]
    assert os.access(os.path.join(bin_dir, "beluga-secrets"), os.X_OK)
