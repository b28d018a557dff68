import hashlib
import os

from kloros_site.analysis.reader import read_version


def test_regular_file_carries_content_and_hash(tmp_path):
    (tmp_path / "a.py").write_bytes(b"x = 1\n")
    version = read_version(tmp_path, tmp_path / "a.py", 1000)
    assert (version.path, version.data, version.size, version.reason) == ("a.py", b"x = 1\n", 6, "")
    assert version.sha256 == hashlib.sha256(b"x = 1\n").hexdigest()


def test_vanished_file_is_a_deletion(tmp_path):
    version = read_version(tmp_path, tmp_path / "gone.py", 1000)
    assert version.deleted and version.data is None


def test_too_large_is_a_reason_not_content(tmp_path):
    (tmp_path / "big.py").write_bytes(b"#" * 101)
    version = read_version(tmp_path, tmp_path / "big.py", 100)
    assert version.reason == "too_large" and version.data is None
    assert "101 bytes" in version.detail


def test_fifo_is_not_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    assert read_version(tmp_path, tmp_path / "pipe.py", 100).reason == "not_regular_file"


def test_symlink_out_of_the_root_is_not_followed(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("secret = 1\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.py").symlink_to(outside)
    version = read_version(root, root / "link.py", 1000)
    assert version.reason == "outside_root" and version.data is None


def test_symlink_loop_is_a_reason(tmp_path):
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    assert read_version(tmp_path, tmp_path / "a.py", 1000).reason == "symlink_loop"


def test_symlink_inside_the_root_is_read(tmp_path):
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real.py")
    assert read_version(tmp_path, tmp_path / "alias.py", 1000).data == b"x = 1\n"
