"""Layout-only views; the main window owns them and wires their signals."""
