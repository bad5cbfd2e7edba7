"""Document routes: create a document with its chunks and embeddings (atomic), list, get,
delete, and the cosine search over the caller's chunks (501 on the PostgreSQL store)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from ..dependencies import get_store, get_user_id
from ..errors import InvalidInput
from ..schemas import (MAX_CONVERSATION_PAGE, MAX_SKIP, ChunkRef, DocumentCreate,
                       DocumentCreated, DocumentListResponse, DocumentResponse, SearchRequest,
                       SearchResponse)
from ..stores import Store

router = APIRouter(prefix="/documents", tags=["Documents"])


def _check_dimension(store: Store, size: int, field: str) -> None:
    if store.embedding_dimension and size != store.embedding_dimension:
        raise InvalidInput(field, f"must have {store.embedding_dimension} values, got {size}")


@router.post("", response_model=DocumentCreated, status_code=status.HTTP_201_CREATED)
async def create_document(data: DocumentCreate, user_id: str = Depends(get_user_id),
                          store: Store = Depends(get_store)):
    """Creates the document and all its chunks in one transaction."""
    for position, chunk in enumerate(data.chunks):
        _check_dimension(store, len(chunk.embedding), f"chunks[{position}].embedding")
    document, chunks = await store.create_document(user_id, data)
    return DocumentCreated(**DocumentResponse.validate(document).dict(),
                           chunks=[ChunkRef(id=chunk_id, chunk_index=index)
                                   for chunk_id, index in chunks])


@router.get("", response_model=DocumentListResponse)
async def list_documents(skip: int = Query(0, ge=0, le=MAX_SKIP),
                         limit: int = Query(20, ge=1, le=MAX_CONVERSATION_PAGE),
                         user_id: str = Depends(get_user_id), store: Store = Depends(get_store)):
    """The caller's live documents, newest first, with the total count."""
    items, total = await store.list_documents(user_id, skip, limit)
    return DocumentListResponse(items=items, total=total, skip=skip, limit=limit)


@router.post("/search", response_model=SearchResponse)
async def search_documents(request: SearchRequest, user_id: str = Depends(get_user_id),
                           store: Store = Depends(get_store)):
    """The ``top_k`` chunks most similar (cosine) to ``embedding`` with similarity >=
    ``threshold``, best first, from the caller's live documents."""
    _check_dimension(store, len(request.embedding), "embedding")
    hits = await store.search(user_id, request)
    return SearchResponse(items=hits, total=len(hits))


@router.get("/{document_id}", response_model=DocumentResponse)
async def get_document(document_id: UUID, user_id: str = Depends(get_user_id),
                       store: Store = Depends(get_store)):
    return await store.get_document(user_id, document_id)


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response)
async def delete_document(document_id: UUID, hard: bool = False,
                          user_id: str = Depends(get_user_id),
                          store: Store = Depends(get_store)) -> Response:
    """Soft delete (its chunks leave search at once); ``hard=true`` removes the chunks too."""
    await store.delete_document(user_id, document_id, hard)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
