"""pyemu: user-mode cross-architecture Linux emulator."""
__version__ = "0.1.0"
