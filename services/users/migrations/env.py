from services.support.runtime.migrations import run_migrations

run_migrations()
