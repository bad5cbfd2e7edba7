"""The seeds' PostgreSQL schema (conversations, messages, documents, embeddings) and its ORM
classes, for SQLAlchemy 1.4.

Differences from the seeds, all forced or harmless:
- ``embeddings.embedding`` is REAL[] instead of pgvector's vector(1536): Debian's PostgreSQL 15
  has no vector type, so there is no HNSW index and no similarity search on this stack;
- ``embeddings`` is one table rather than month partitions (the partitions only serve the
  vector index);
- roles include ``tool`` and ``(document_id, chunk_index)`` is unique, as SPEC §2 says.

The classes are mapped imperatively onto the tables so that their attributes carry the column
names, ``metadata`` included (declarative classes reserve that name).
``Conversation.message_count`` is a correlated count loaded with every conversation, in the same
SELECT, instead of the seeds' one extra query per listed conversation.
"""

from __future__ import annotations

from sqlalchemy import (REAL, Boolean, CheckConstraint, Column, ForeignKey, Index,
                        Integer, MetaData, String, Table, Text, UniqueConstraint, func, select,
                        text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP, UUID
from sqlalchemy.orm import column_property, registry

from ..schemas import DEFAULT_MODEL

schema = MetaData()


def _id() -> Column:
    return Column("id", UUID(as_uuid=True), primary_key=True,
                  server_default=text("gen_random_uuid()"))


def _timestamp(name: str, **options: object) -> Column:
    return Column(name, TIMESTAMP(timezone=True), nullable=False, server_default=func.now(),
                  **options)


conversations = Table(
    "conversations", schema,
    _id(),
    Column("user_id", String(255), nullable=False),
    Column("title", String(255), nullable=False),
    Column("summary", Text),
    Column("model", String(100), nullable=False, server_default=DEFAULT_MODEL),
    Column("system_prompt", Text, nullable=False),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("is_deleted", Boolean, nullable=False, server_default=text("false")),
    Column("deleted_at", TIMESTAMP(timezone=True)),
    _timestamp("created_at"),
    _timestamp("updated_at", onupdate=func.now()),
    CheckConstraint("length(user_id) > 0", name="ck_conversations_user_id_not_empty"),
    CheckConstraint("length(title) > 0", name="ck_conversations_title_not_empty"),
    CheckConstraint("length(model) > 0", name="ck_conversations_model_not_empty"),
)
Index("idx_conversations_user_created", conversations.c.user_id,
      conversations.c.created_at.desc(), postgresql_where=text("is_deleted = false"))
Index("idx_conversations_user_id", conversations.c.user_id)

messages = Table(
    "messages", schema,
    _id(),
    Column("conversation_id", UUID(as_uuid=True),
           ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("content", Text, nullable=False),
    Column("tool_calls", JSONB),
    Column("tool_results", JSONB),
    Column("tokens_used", Integer),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    _timestamp("created_at"),
    CheckConstraint("role IN ('user', 'assistant', 'system', 'tool')", name="ck_messages_role"),
    CheckConstraint("length(content) > 0", name="ck_messages_content_not_empty"),
    CheckConstraint("tokens_used IS NULL OR tokens_used >= 0", name="ck_messages_tokens"),
)
Index("idx_messages_conversation", messages.c.conversation_id, messages.c.created_at)

documents = Table(
    "documents", schema,
    _id(),
    Column("user_id", String(255), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("file_type", String(20), nullable=False),
    Column("content", Text, nullable=False),
    Column("total_chunks", Integer, nullable=False, server_default=text("0")),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("is_deleted", Boolean, nullable=False, server_default=text("false")),
    Column("deleted_at", TIMESTAMP(timezone=True)),
    _timestamp("created_at"),
    _timestamp("updated_at", onupdate=func.now()),
    CheckConstraint("file_type IN ('pdf', 'txt', 'docx', 'md', 'html')",
                    name="ck_documents_file_type"),
    CheckConstraint("total_chunks >= 0", name="ck_documents_chunks_non_negative"),
)
Index("idx_documents_user_created", documents.c.user_id, documents.c.created_at.desc(),
      postgresql_where=text("is_deleted = false"))

embeddings = Table(
    "embeddings", schema,
    _id(),
    Column("document_id", UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE"),
           nullable=False),
    Column("chunk_text", Text, nullable=False),
    Column("embedding", ARRAY(REAL), nullable=False),
    Column("chunk_index", Integer, nullable=False),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("is_deleted", Boolean, nullable=False, server_default=text("false")),
    _timestamp("created_at"),
    CheckConstraint("length(chunk_text) > 0", name="ck_chunk_text_not_empty"),
    CheckConstraint("chunk_index >= 0", name="ck_chunk_index_non_negative"),
    UniqueConstraint("document_id", "chunk_index", name="uq_embeddings_document_chunk"),
)

# The key pg_advisory_xact_lock serialises schema creation under: uvicorn workers start together.
SCHEMA_LOCK_KEY = 0x6D6E656D6F  # "mnemo"


class _Row:
    """A mapped row; ``Conversation(title=..., ...)`` sets the given columns."""

    def __init__(self, **values: object) -> None:
        for name, value in values.items():
            setattr(self, name, value)


class Conversation(_Row):
    pass


class Message(_Row):
    pass


class Document(_Row):
    pass


mapper_registry = registry()
mapper_registry.map_imperatively(Conversation, conversations, eager_defaults=True, properties={
    "message_count": column_property(
        select(func.count(messages.c.id))
        .where(messages.c.conversation_id == conversations.c.id)
        .correlate_except(messages)
        .scalar_subquery()),
})
mapper_registry.map_imperatively(Message, messages, eager_defaults=True)
mapper_registry.map_imperatively(Document, documents, eager_defaults=True)
