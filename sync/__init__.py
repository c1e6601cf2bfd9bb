"""FieldSync's sync engine: wire messages, push/pull rules, cursors and the Store seam.

Pure by design: this package imports only the standard library and msgspec, so the same rules
run inside the Litestar server, in tests and in the reference device client. The protocol it
implements is specified in ``sync/PROTOCOL.md``; import from the submodules directly.
"""
