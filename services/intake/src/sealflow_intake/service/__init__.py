"""intake's service layer: what a caller can do with a matter — submit it, revise, withdraw, transfer a task,
decide — and the reads and checks those need (who may read a matter, how it is shown, verification of an
approval or a sealed PDF). Plain async functions taking their dependencies (the runtime, the caller, the
gRPC client to signing) as parameters; nothing here knows about HTTP. The routes in entrypoints/ translate
requests into these calls, and their answers back."""
