//! Socket.IO on tokio (feature `socketio`): pushwire-socketio's sans-IO roles with their I/O.

pub mod client;
