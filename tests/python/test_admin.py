"""Administration methods (service principal): stats, partitions, rebuild, archive/drop/attach,
backup."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import mnemo
from conftest import unit_vector


def test_stats_and_partitions(client, user_id):
    document = client.create_document(user_id, "admin.txt", "txt")
    client.add_chunks(user_id, [mnemo.NewChunk(document.id, 0, "x", unit_vector(5))])
    stats = client.get_stats()
    assert stats.connections >= 1 and stats.data_bytes > 0
    assert any(op.name and op.count > 0 for op in stats.ops)
    partitions = client.list_partitions()
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    assert month in {p.month for p in partitions}
    assert sum(p.rows for p in partitions) >= 1
    client.rebuild_partition(month)
    with pytest.raises(mnemo.MnemoError):
        client.rebuild_partition("not-a-month")


def test_archive_drop_attach_and_backup(connect, own_mnemod, tmp_path):
    client = connect(own_mnemod.port)
    document = client.create_document("u", "old.txt", "txt")
    back_then = datetime(2020, 3, 15, tzinfo=timezone.utc)
    client.add_chunks("u", [mnemo.NewChunk(document.id, i, f"old {i}", unit_vector(60 + i),
                                           created_at=back_then) for i in range(3)])
    archive = str(tmp_path / "2020-03.archive")
    assert client.archive_partition("2020-03", archive) == 3
    assert client.drop_partition("2020-03") == 3
    assert client.search_similar("u", unit_vector(60), limit=5) == []
    attached = client.attach_archive(archive)
    assert (attached.attached, attached.skipped) == (3, 0)
    assert client.search_similar("u", unit_vector(60), limit=1)[0].chunk_text == "old 0"
    client.create_backup(str(tmp_path / "backup"))
    assert (tmp_path / "backup").exists()
    with pytest.raises(mnemo.MnemoError):
        client.create_backup(str(tmp_path / "backup"))  # must not exist yet
