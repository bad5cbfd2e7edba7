"""The seeds' flow end to end, as a FastAPI backend would run it with the async client:
a conversation with user/assistant/tool messages and tool calls, listing, title search, token
stats, a document with chunks and embeddings, thresholded similarity search, and a soft delete
that hides the document from search at once."""

from __future__ import annotations

import numpy

import mnemo
from conftest import blend, unit_vector


async def _scenario(client: mnemo.AsyncClient, user: str) -> None:
    conversation = await client.create_conversation(
        user, "Weather in Paris", system_prompt="You are a helpful assistant.",
        metadata={"channel": "web"})
    await client.create_message(user, conversation.id, "user", "What's the weather in Paris?",
                                tokens_used=12)
    call = {"id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
    assistant = await client.create_message(
        user, conversation.id, "assistant", "Let me check.", tokens_used=30, tool_calls=[call],
        parts=[{"type": "text", "text": "Let me check."}, {"type": "tool_use", **call}])
    await client.create_message(user, conversation.id, "tool", "18°C, sunny",
                                tool_results=[{"tool_use_id": "toolu_01", "content": "18°C"}])
    await client.update_tool_results(user, assistant.id,
                                     [{"tool_use_id": "toolu_01", "content": "18°C"}])
    await client.create_message(user, conversation.id, "assistant", "It is 18°C and sunny.",
                                tokens_used=15)

    history = await client.get_conversation_messages(user, conversation.id)
    assert [m.role for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[1].tool_calls == [call] and history[1].tool_results[0]["content"] == "18°C"
    assert history[2].content == "18°C, sunny"
    assert [m.id for m in await client.get_messages_with_tool_calls(user, conversation.id)] == \
        [assistant.id]
    assert (await client.get_last_user_message(user, conversation.id)).tokens_used == 12

    listed = await client.get_user_conversations(user)
    assert [c.id for c in listed] == [conversation.id]
    assert listed[0].message_count == 4 and listed[0].total_tokens == 57
    assert [c.id for c in await client.search_by_title(user, "paris")] == [conversation.id]

    stats = await client.get_token_usage_stats(user, conversation.id)
    assert (stats.total_tokens, stats.user_tokens, stats.assistant_tokens) == (57, 12, 45)
    assert stats.message_count == 4

    topic, unrelated = unit_vector(77), unit_vector(78)
    async with client.batch(user) as b:
        document_id = b.create_document("paris-guide.md", "md", "# Paris\n...")
        for index, weight in enumerate((0.0, 0.2, 0.9)):
            vector = numpy.asarray(blend(topic, unrelated, weight), dtype=numpy.float32)
            b.add_chunk(document_id, index, f"section {index}", vector)
    hits = await client.search_similar(user, topic, limit=5, threshold=0.8)
    assert [h.chunk_index for h in hits] == [0, 1]
    assert hits[0].filename == "paris-guide.md" and hits[0].similarity > 0.99

    assert await client.soft_delete_document(user, document_id) is True
    assert await client.search_similar(user, topic, limit=5) == []
    assert await client.soft_delete(user, conversation.id) is True
    assert await client.search_by_title(user, "paris") == []
    assert (await client.get_user_stats(user)).deleted_conversations == 1


def test_seed_scenario(mnemod, loop, user_id):
    async def run():
        async with mnemo.AsyncClient(port=mnemod.port) as client:
            await _scenario(client, user_id)

    loop.run_until_complete(run())
