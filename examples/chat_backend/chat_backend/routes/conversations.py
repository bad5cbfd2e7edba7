"""Conversation routes (seed 001 Task 1.3.2): create, list, title search, stats, get, update,
delete (soft, or hard with ?hard=true), restore."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from ..dependencies import get_store, get_user_id
from ..schemas import (MAX_CONVERSATION_PAGE, MAX_SKIP, ConversationCreate,
                       ConversationListResponse, ConversationResponse, ConversationStats,
                       ConversationUpdate)
from ..stores import Store

router = APIRouter(prefix="/conversations", tags=["Conversations"])

Skip = Query(0, ge=0, le=MAX_SKIP)
Limit = Query(10, ge=1, le=MAX_CONVERSATION_PAGE)


@router.post("", response_model=ConversationResponse, status_code=status.HTTP_201_CREATED)
async def create_conversation(data: ConversationCreate, user_id: str = Depends(get_user_id),
                              store: Store = Depends(get_store)):
    """Creates a conversation for the caller."""
    return await store.create_conversation(user_id, data)


@router.get("", response_model=ConversationListResponse)
async def list_conversations(skip: int = Skip, limit: int = Limit, include_deleted: bool = False,
                             user_id: str = Depends(get_user_id),
                             store: Store = Depends(get_store)):
    """The caller's conversations, newest first, with the total count."""
    items, total = await store.list_conversations(user_id, skip, limit, include_deleted)
    return ConversationListResponse(items=items, total=total, skip=skip, limit=limit)


@router.get("/search", response_model=list[ConversationResponse])
async def search_conversations(q: str = Query(..., min_length=1, max_length=255),
                               skip: int = Skip, limit: int = Limit,
                               user_id: str = Depends(get_user_id),
                               store: Store = Depends(get_store)):
    """Live conversations whose title contains ``q`` (case-insensitive), newest first."""
    return await store.search_conversations(user_id, q, skip, limit)


@router.get("/stats", response_model=ConversationStats)
async def conversation_stats(user_id: str = Depends(get_user_id),
                             store: Store = Depends(get_store)):
    """Total, active and deleted conversation counts, and the last activity (the newest
    updated_at of the caller's conversations)."""
    return await store.conversation_stats(user_id)


@router.get("/{conversation_id}", response_model=ConversationResponse)
async def get_conversation(conversation_id: UUID, include_deleted: bool = False,
                           user_id: str = Depends(get_user_id),
                           store: Store = Depends(get_store)):
    return await store.get_conversation(user_id, conversation_id, include_deleted)


@router.patch("/{conversation_id}", response_model=ConversationResponse)
async def update_conversation(conversation_id: UUID, data: ConversationUpdate,
                              user_id: str = Depends(get_user_id),
                              store: Store = Depends(get_store)):
    """Changes the fields given (null or absent: unchanged)."""
    changes = {name: value for name, value in data.dict(exclude_unset=True).items()
               if value is not None}
    return await store.update_conversation(user_id, conversation_id, changes)


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response)
async def delete_conversation(conversation_id: UUID, hard: bool = False,
                              user_id: str = Depends(get_user_id),
                              store: Store = Depends(get_store)) -> Response:
    """Soft delete (restorable); ``hard=true`` removes the conversation and its messages."""
    await store.delete_conversation(user_id, conversation_id, hard)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{conversation_id}/restore", response_model=ConversationResponse)
async def restore_conversation(conversation_id: UUID, user_id: str = Depends(get_user_id),
                               store: Store = Depends(get_store)):
    """Undoes a soft delete."""
    return await store.restore_conversation(user_id, conversation_id)
