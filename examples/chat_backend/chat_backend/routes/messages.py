"""Message routes (seed 002 message_routes): page a conversation's messages, append one, and
its token usage."""

from __future__ import annotations

from typing import Literal, Optional
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from ..dependencies import get_store, get_user_id
from ..schemas import (MAX_MESSAGE_PAGE, MAX_SKIP, MessageCreate, MessageSchema, Role,
                       TokenUsageStats)
from ..stores import Store

router = APIRouter(prefix="/conversations/{conversation_id}/messages", tags=["Messages"])


@router.get("", response_model=list[MessageSchema])
async def get_conversation_messages(conversation_id: UUID,
                                    skip: int = Query(0, ge=0, le=MAX_SKIP),
                                    limit: int = Query(50, ge=1, le=MAX_MESSAGE_PAGE),
                                    role: Optional[Role] = None,
                                    order: Literal["asc", "desc"] = "asc",
                                    user_id: str = Depends(get_user_id),
                                    store: Store = Depends(get_store)):
    """A page of the conversation's messages, oldest first (``order=desc``: newest first),
    optionally of one role."""
    return await store.list_messages(user_id, conversation_id, skip, limit, role,
                                     order == "desc")


@router.post("", response_model=MessageSchema, status_code=status.HTTP_201_CREATED)
async def create_message(conversation_id: UUID, data: MessageCreate,
                         user_id: str = Depends(get_user_id), store: Store = Depends(get_store)):
    """Appends a message to a live conversation of the caller."""
    return await store.append_message(user_id, conversation_id, data)


@router.get("/stats", response_model=TokenUsageStats)
async def token_usage_stats(conversation_id: UUID, user_id: str = Depends(get_user_id),
                            store: Store = Depends(get_store)):
    """The seeds' token usage statistics of the conversation."""
    return await store.token_stats(user_id, conversation_id)
