// What a chunk-invariance check needs of a payload decoder, for revision 3's and revision
// 4's. Self-contained (fully qualified paths) so that it serves as a module of the
// engineio tests and, through `include!`, of the fuzz targets.

/// The feed/poll surface both payload decoders share.
pub(crate) trait Decoding {
    fn feed(&mut self, data: &[u8]) -> Result<(), pushwire_engineio::FeedError>;
    fn feed_bytes(&mut self, data: bytes::Bytes) -> Result<(), pushwire_engineio::FeedError>;
    fn feed_eof(&mut self);
    fn poll_packet(
        &mut self,
    ) -> Result<Option<pushwire_engineio::Packet>, pushwire_engineio::PayloadError>;
    fn is_finished(&self) -> bool;
}

macro_rules! decoding {
    ($t:ty) => {
        impl Decoding for $t {
            fn feed(&mut self, data: &[u8]) -> Result<(), pushwire_engineio::FeedError> {
                <$t>::feed(self, data)
            }
            fn feed_bytes(
                &mut self,
                data: bytes::Bytes,
            ) -> Result<(), pushwire_engineio::FeedError> {
                <$t>::feed_bytes(self, data)
            }
            fn feed_eof(&mut self) {
                <$t>::feed_eof(self)
            }
            fn poll_packet(
                &mut self,
            ) -> Result<Option<pushwire_engineio::Packet>, pushwire_engineio::PayloadError> {
                <$t>::poll_packet(self)
            }
            fn is_finished(&self) -> bool {
                <$t>::is_finished(self)
            }
        }
    };
}
decoding!(pushwire_engineio::PayloadDecoder);
decoding!(pushwire_engineio::v4::PayloadDecoder);

/// Feeds `input` to `d` in the chunks given by `cuts` (alternating `feed` and `feed_bytes`),
/// polling after each, then EOF; returns the packets and at most one error, last. A refused
/// feed (over `max_payload_bytes`) takes nothing; the poll reports it.
#[allow(dead_code)] // the fuzz targets have their own, stricter loop
pub(crate) fn decode_chunked<D: Decoding>(
    mut d: D,
    input: &[u8],
    cuts: &[usize],
) -> Vec<Result<pushwire_engineio::Packet, pushwire_engineio::PayloadError>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    let mut failed = false;
    let drain = |d: &mut D, out: &mut Vec<_>, failed: &mut bool| {
        while !*failed {
            match d.poll_packet() {
                Ok(Some(p)) => out.push(Ok(p)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    *failed = true;
                }
            }
        }
    };
    for (i, &c) in cuts.iter().enumerate() {
        let _ = if i % 2 == 0 {
            d.feed(&input[pos..c])
        } else {
            d.feed_bytes(bytes::Bytes::copy_from_slice(&input[pos..c]))
        };
        pos = c;
        drain(&mut d, &mut out, &mut failed);
    }
    d.feed_eof();
    drain(&mut d, &mut out, &mut failed);
    if !failed {
        assert!(d.is_finished(), "a clean end after EOF");
    }
    out
}
