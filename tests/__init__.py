"""The test suite: real files, a real store, a real watcher, a real bot against a Bot API double on 127.0.0.1."""
