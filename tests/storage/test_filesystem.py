"""What only the filesystem backend promises: containment under its root, links instead of copies, one
rename per folder move, and no debris (temp files, empty folders) left behind."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from cube.storage.base import InvalidKey, ObjectNotFound, StorageError
from cube.storage.filesystem import TMP_MARKER, FilesystemStorage


@pytest.fixture
def fs(tmp_path: Path) -> FilesystemStorage:
    return FilesystemStorage(str(tmp_path / "root"))


def all_entries(root: str) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root) for n in dirs + files)


def test_symlinks_leading_out_of_the_root_are_refused(fs: FilesystemStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    os.symlink(outside, os.path.join(fs.root, "escape"))
    os.symlink(outside / "secret", os.path.join(fs.root, "file-escape"))
    for call in (
        lambda: fs.open("escape/secret"),
        lambda: fs.open("file-escape"),
        lambda: fs.stat("escape/secret"),
        lambda: fs.save("escape/new", [b"x"]),
        lambda: fs.delete("escape/secret"),
        lambda: fs.copy("escape/secret", "mine"),
        lambda: list(fs.ls("escape")),
        lambda: fs.delete_prefix("escape"),
        lambda: fs.local_path("file-escape"),
    ):
        with pytest.raises(InvalidKey):
            call()
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"


def test_symlink_inside_the_root_is_followed(fs: FilesystemStorage) -> None:
    fs.save("real/a", [b"a"])
    os.symlink(os.path.join(fs.root, "real"), os.path.join(fs.root, "alias"))
    assert b"".join(fs.open("alias/a")) == b"a"
    assert list(fs.ls("alias")) == ["alias/a"]  # keys keep the caller's spelling
    assert list(fs.ls("")) == ["real/a"]  # a symlinked folder is not walked twice (nor in a loop)


def test_copy_export_and_import_link_instead_of_copying(fs: FilesystemStorage, tmp_path: Path) -> None:
    fs.save("src/a", [b"payload"])
    fs.copy("src/a", "dst/a")
    inode = os.stat(fs.local_path("src/a") or "").st_ino
    assert os.stat(fs.local_path("dst/a") or "").st_ino == inode

    exported = tmp_path / "job-in"
    assert fs.export_prefix("src", str(exported)) == 1
    assert os.stat(exported / "a").st_ino == inode

    produced = tmp_path / "job-out" / "result.txt"
    produced.parent.mkdir()
    produced.write_bytes(b"result")
    stored = fs.import_file(str(produced), "feeds/1/out/result.txt")
    assert stored.size == 6
    assert os.stat(fs.local_path("feeds/1/out/result.txt") or "").st_ino == os.stat(produced).st_ino
    assert produced.read_bytes() == b"result"  # the local file is left where it was


def test_move_prefix_renames_the_folder_once(fs: FilesystemStorage) -> None:
    for i in range(50):
        fs.save(f"feeds/1/out/sub{i % 5}/f{i}", [b"x"])
    folder_inode = os.stat(os.path.join(fs.root, "feeds", "1", "out")).st_ino
    fs.move_prefix("feeds/1/out", "feeds/2/in")
    assert os.stat(os.path.join(fs.root, "feeds", "2", "in")).st_ino == folder_inode
    assert len(list(fs.ls("feeds/2/in"))) == 50
    assert not os.path.exists(os.path.join(fs.root, "feeds", "1"))  # the emptied parent went too


def test_deleting_prunes_empty_folders_but_keeps_the_root(fs: FilesystemStorage) -> None:
    fs.save("a/b/c/d", [b"x"])
    fs.save("a/other", [b"y"])
    fs.delete("a/b/c/d")
    assert all_entries(fs.root) == ["a", os.path.join("a", "other")]
    fs.delete_many(["a/other"])
    assert all_entries(fs.root) == []
    fs.save("p/q/r", [b"z"])
    fs.delete_prefix("p/q")
    assert all_entries(fs.root) == []
    assert os.path.isdir(fs.root)


def test_failed_save_leaves_no_temp_file_or_new_folder(fs: FilesystemStorage) -> None:
    fs.save("keep/x", [b"x"])

    def failing() -> object:
        yield b"partial"
        raise RuntimeError("upload aborted")

    with pytest.raises(RuntimeError):
        fs.save("keep/y", failing())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        fs.save("new/deep/folder/y", failing())  # type: ignore[arg-type]
    assert all_entries(fs.root) == ["keep", os.path.join("keep", "x")]


def test_temp_names_are_reserved_and_never_listed(fs: FilesystemStorage) -> None:
    with pytest.raises(InvalidKey):
        fs.save(f"a/{TMP_MARKER}x", [b"x"])
    fs.save("a/real", [b"x"])
    Path(fs.root, "a", f"{TMP_MARKER}crashed-upload").write_bytes(b"debris")
    assert list(fs.ls("a")) == ["a/real"]


def test_a_key_cannot_be_both_object_and_folder(fs: FilesystemStorage) -> None:
    fs.save("a/b", [b"object"])
    with pytest.raises(StorageError):
        fs.save("a/b/c", [b"under an object"])
    fs.save("x/y/z", [b"deep"])
    with pytest.raises(StorageError):
        fs.save("x/y", [b"over a folder"])
    assert b"".join(fs.open("x/y/z")) == b"deep"
    with pytest.raises(ObjectNotFound):
        fs.stat("x/y")  # a folder is not an object
    with pytest.raises(ObjectNotFound):
        fs.open("x/y")


def test_saved_files_are_readable_by_others(fs: FilesystemStorage) -> None:
    # Plugins run as another user and read hard-linked inputs: a 0600 temp file would lock them out.
    fs.save("m/x", [b"x"])
    assert stat.S_IMODE(os.stat(fs.local_path("m/x") or "").st_mode) == 0o644


def test_concurrent_saves_and_deletes_in_one_folder(fs: FilesystemStorage) -> None:
    # A delete prunes an emptied folder while another thread is about to write into it.
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(150):
                key = f"shared/folder/{n}-{i}"
                fs.save(key, [b"x"])
                fs.delete(key)
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all_entries(fs.root) == []


def test_import_files_refuses_a_folder_that_is_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root, outside, local = tmp_path / "root", tmp_path / "outside", tmp_path / "x.txt"
    root.mkdir()
    outside.mkdir()
    local.write_bytes(b"x")
    (root / "evil").symlink_to(outside)
    storage = FilesystemStorage(str(root))
    with pytest.raises(InvalidKey):
        storage.import_files([(str(local), "evil/x.txt")])
    assert not list(outside.iterdir())
