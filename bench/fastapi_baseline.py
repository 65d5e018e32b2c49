"""The baseline a Python team would compare GetBook with: one FastAPI process (uvicorn, uvloop, httptools, one
worker) with an asyncpg pool, reading a book and its copy counts by id from the catalog's own database.

It runs the statement GetBook runs (the book row and its two copy counts) and answers the same JSON fields the
edge does. Started by the benches (`start_fastapi` in bench/baselines.py); by hand:
`python bench/fastapi_baseline.py --port 8000 --dsn postgresql://postgres@127.0.0.1:5432/catalog`.
"""

from __future__ import annotations

import argparse
import uuid
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, HTTPException

GET_BOOK = """
SELECT b.id, b.isbn, b.title, b.subtitle, b.authors, b.subjects, b.publisher, b.publication_year, b.language,
       b.description, b.cover_url, b.created_at, b.updated_at, b.version,
       (SELECT count(*) FROM copies c WHERE c.book_id = b.id AND c.status <> 'WITHDRAWN') AS total_copies,
       (SELECT count(*) FROM copies c WHERE c.book_id = b.id AND c.status = 'AVAILABLE') AS available_copies
FROM books b WHERE b.id = $1"""


def build(dsn: str, pool_size: int) -> FastAPI:
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        pool["db"] = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
        yield
        await pool["db"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "SERVING"}

    @app.get("/v1/books/{book_id}")
    async def get_book(book_id: uuid.UUID) -> dict[str, Any]:
        row = await pool["db"].fetchrow(GET_BOOK, book_id)
        if row is None:
            raise HTTPException(status_code=404, detail="no such book")
        return {
            "name": f"books/{row['id']}",
            "isbn": row["isbn"] or "",
            "title": row["title"],
            "subtitle": row["subtitle"],
            "authors": row["authors"],
            "subjects": row["subjects"],
            "publisher": row["publisher"],
            "publicationYear": row["publication_year"] or 0,
            "language": row["language"],
            "description": row["description"],
            "coverUrl": row["cover_url"],
            "totalCopies": row["total_copies"],
            "availableCopies": row["available_copies"],
            "createTime": row["created_at"].isoformat(),
            "updateTime": row["updated_at"].isoformat(),
            "etag": f'W/"{row["version"]}"',
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True, help="asyncpg DSN of the catalog database")
    parser.add_argument("--pool-size", type=int, default=10, help="the services' default pool size")
    args = parser.parse_args()
    app = build(args.dsn, args.pool_size)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", workers=1,
        access_log=False, log_level="warning",
    )  # fmt: skip


if __name__ == "__main__":
    main()
