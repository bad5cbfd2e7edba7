"""The seeds' repositories (ConversationRepository, MessageRepository, DocumentRepository,
EmbeddingRepository) on SQLAlchemy 1.4 async sessions.

Method names and results follow the seeds (Optional and bool results, lists, stats dicts).  Two
things differ on purpose: every query is scoped to the calling user (the seeds' soft_delete and
message queries were not), and methods do not commit — the caller owns the transaction
(``async with sessions.begin()``), so that a message and its conversation's updated_at commit
together.  Thread-safety: a repository borrows its session and is as safe as it (one task).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence
from uuid import UUID

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from .pg_schema import Conversation, Document, Message, embeddings


def _contains(term: str) -> str:
    """A LIKE pattern matching ``term`` literally anywhere (backslash is LIKE's escape)."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _scoped(self, user_id: str, conversation_id: UUID, include_deleted: bool = False):
        condition = and_(Conversation.id == conversation_id, Conversation.user_id == user_id)
        if not include_deleted:
            condition = and_(condition, Conversation.is_deleted.is_(False))
        return condition

    async def create(self, user_id: str, title: str, system_prompt: str, model: str,
                     summary: Optional[str], metadata: dict[str, Any]) -> Conversation:
        conversation = Conversation(user_id=user_id, title=title, system_prompt=system_prompt,
                                    model=model, summary=summary, metadata=metadata,
                                    is_deleted=False, deleted_at=None)
        self.session.add(conversation)
        await self.session.flush()  # INSERT ... RETURNING id, created_at, updated_at
        set_committed_value(conversation, "message_count", 0)
        return conversation

    async def get_user_conversation(self, user_id: str, conversation_id: UUID,
                                    include_deleted: bool = False) -> Optional[Conversation]:
        query = select(Conversation).where(self._scoped(user_id, conversation_id,
                                                        include_deleted))
        return (await self.session.execute(query)).scalars().first()

    async def get_user_conversations(self, user_id: str, skip: int = 0, limit: int = 10,
                                     include_deleted: bool = False) -> Sequence[Conversation]:
        query = select(Conversation).where(Conversation.user_id == user_id)
        if not include_deleted:
            query = query.where(Conversation.is_deleted.is_(False))
        query = query.order_by(Conversation.created_at.desc()).offset(skip).limit(limit)
        return (await self.session.execute(query)).scalars().all()

    async def count_user_conversations(self, user_id: str,
                                       include_deleted: bool = False) -> int:
        query = select(func.count()).select_from(Conversation).where(
            Conversation.user_id == user_id)
        if not include_deleted:
            query = query.where(Conversation.is_deleted.is_(False))
        return (await self.session.execute(query)).scalar() or 0

    async def search_by_title(self, user_id: str, search_term: str, skip: int = 0,
                              limit: int = 10) -> Sequence[Conversation]:
        query = (select(Conversation)
                 .where(Conversation.user_id == user_id, Conversation.is_deleted.is_(False),
                        func.lower(Conversation.title).like(_contains(search_term),
                                                            escape="\\"))
                 .order_by(Conversation.created_at.desc()).offset(skip).limit(limit))
        return (await self.session.execute(query)).scalars().all()

    async def update(self, user_id: str, conversation_id: UUID,
                     **changes: Any) -> Optional[Conversation]:
        conversation = await self.get_user_conversation(user_id, conversation_id)
        if conversation is None:
            return None
        for name, value in changes.items():
            setattr(conversation, name, value)
        await self._flush_update(conversation)
        return conversation

    async def _flush_update(self, conversation: Conversation) -> None:
        """UPDATE ... RETURNING updated_at.  The flush expires message_count (a SQL expression);
        an update does not change it, so it is put back instead of being loaded again."""
        message_count = conversation.message_count
        await self.session.flush()
        set_committed_value(conversation, "message_count", message_count)

    async def touch(self, user_id: str, conversation_id: UUID) -> bool:
        """Moves a live conversation's updated_at to now; False when there is none."""
        result = await self.session.execute(
            update(Conversation).where(self._scoped(user_id, conversation_id))
            .values(updated_at=func.now()).execution_options(synchronize_session=False))
        return result.rowcount > 0

    async def soft_delete(self, user_id: str, conversation_id: UUID) -> bool:
        """Marks the conversation deleted; True also when it already was (as the seeds)."""
        result = await self.session.execute(
            update(Conversation).where(self._scoped(user_id, conversation_id))
            .values(is_deleted=True, deleted_at=func.now(), updated_at=func.now())
            .execution_options(synchronize_session=False))
        if result.rowcount > 0:
            return True
        return await self.get_user_conversation(user_id, conversation_id, True) is not None

    async def undelete(self, user_id: str, conversation_id: UUID) -> Optional[Conversation]:
        """Restores a conversation (a live one stays as it is); None when there is none."""
        conversation = await self.get_user_conversation(user_id, conversation_id,
                                                        include_deleted=True)
        if conversation is None:
            return None
        if conversation.is_deleted:
            conversation.is_deleted = False
            conversation.deleted_at = None
            await self._flush_update(conversation)
        return conversation

    async def hard_delete(self, user_id: str, conversation_id: UUID) -> bool:
        """Removes the conversation and (ON DELETE CASCADE) its messages."""
        result = await self.session.execute(
            delete(Conversation).where(self._scoped(user_id, conversation_id, True))
            .execution_options(synchronize_session=False))
        return result.rowcount > 0

    async def get_user_stats(self, user_id: str) -> dict[str, Any]:
        """The seeds' counts; last_activity is the newest updated_at of any of the user's
        conversations (as mnemo defines it), not the newest creation time."""
        live = Conversation.is_deleted.is_(False)
        row = (await self.session.execute(
            select(func.count(), func.count().filter(live),
                   func.max(Conversation.updated_at))
            .where(Conversation.user_id == user_id))).one()
        total, active, last_activity = row
        return {"total_conversations": total, "active_conversations": active,
                "deleted_conversations": total - active, "last_activity": last_activity}


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, conversation_id: UUID, role: str, content: str, tool_calls: Any,
                     tool_results: Any, tokens_used: Optional[int],
                     metadata: dict[str, Any]) -> Message:
        message = Message(conversation_id=conversation_id, role=role, content=content,
                          tool_calls=tool_calls, tool_results=tool_results,
                          tokens_used=tokens_used, metadata=metadata)
        self.session.add(message)
        await self.session.flush()  # INSERT ... RETURNING id, created_at
        return message

    async def get_conversation_messages(self, user_id: str, conversation_id: UUID,
                                        skip: int = 0, limit: int = 50,
                                        role: Optional[str] = None,
                                        descending: bool = False) -> Sequence[Message]:
        """A page of a live conversation's messages of ``user_id``, oldest first (or newest
        first); the ownership check is a join, not a second query."""
        query = (select(Message)
                 .join(Conversation, Conversation.id == Message.conversation_id)
                 .where(Message.conversation_id == conversation_id,
                        Conversation.user_id == user_id, Conversation.is_deleted.is_(False)))
        if role is not None:
            query = query.where(Message.role == role)
        order = Message.created_at.desc() if descending else Message.created_at.asc()
        query = query.order_by(order).offset(skip).limit(limit)
        return (await self.session.execute(query)).scalars().all()

    async def get_token_usage_stats(self, conversation_id: UUID) -> dict[str, Any]:
        tokens = func.sum(Message.tokens_used)
        is_user = Message.role == "user"
        is_assistant = Message.role == "assistant"
        row = (await self.session.execute(
            select(func.count(), tokens, func.count().filter(is_user), tokens.filter(is_user),
                   func.count().filter(is_assistant), tokens.filter(is_assistant))
            .where(Message.conversation_id == conversation_id))).one()
        count, total, user_count, user_tokens, assistant_count, assistant_tokens = row
        total = total or 0
        return {"total_tokens": total, "user_tokens": user_tokens or 0,
                "assistant_tokens": assistant_tokens or 0,
                "average_tokens_per_message": total / count if count else 0.0,
                "message_count": count, "user_message_count": user_count,
                "assistant_message_count": assistant_count}


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _scoped(self, user_id: str, document_id: UUID):
        return and_(Document.id == document_id, Document.user_id == user_id)

    async def create(self, user_id: str, filename: str, file_type: str, content: str,
                     total_chunks: int, metadata: dict[str, Any]) -> Document:
        document = Document(user_id=user_id, filename=filename, file_type=file_type,
                            content=content, total_chunks=total_chunks, metadata=metadata,
                            is_deleted=False, deleted_at=None)
        self.session.add(document)
        await self.session.flush()
        return document

    async def get_user_document(self, user_id: str, document_id: UUID) -> Optional[Document]:
        query = select(Document).where(self._scoped(user_id, document_id),
                                       Document.is_deleted.is_(False))
        return (await self.session.execute(query)).scalars().first()

    async def get_user_documents(self, user_id: str, skip: int = 0,
                                 limit: int = 20) -> Sequence[Document]:
        query = (select(Document)
                 .where(Document.user_id == user_id, Document.is_deleted.is_(False))
                 .order_by(Document.created_at.desc()).offset(skip).limit(limit))
        return (await self.session.execute(query)).scalars().all()

    async def get_user_document_count(self, user_id: str) -> int:
        query = select(func.count()).select_from(Document).where(
            Document.user_id == user_id, Document.is_deleted.is_(False))
        return (await self.session.execute(query)).scalar() or 0

    async def soft_delete_document(self, user_id: str, document_id: UUID) -> bool:
        """Marks the document deleted; True also when it already was."""
        result = await self.session.execute(
            update(Document).where(self._scoped(user_id, document_id),
                                   Document.is_deleted.is_(False))
            .values(is_deleted=True, deleted_at=func.now(), updated_at=func.now())
            .execution_options(synchronize_session=False))
        if result.rowcount > 0:
            return True
        query = select(Document.id).where(self._scoped(user_id, document_id))
        return (await self.session.execute(query)).first() is not None

    async def hard_delete(self, user_id: str, document_id: UUID) -> bool:
        """Removes the document and (ON DELETE CASCADE) its embeddings."""
        result = await self.session.execute(
            delete(Document).where(self._scoped(user_id, document_id))
            .execution_options(synchronize_session=False))
        return result.rowcount > 0


class EmbeddingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def bulk_create(self, rows: list[dict[str, Any]]) -> None:
        """Inserts chunk rows (with their ids) in one executemany."""
        if rows:
            await self.session.execute(insert(embeddings), rows)
