//! SSE tests (placeholder being written).
