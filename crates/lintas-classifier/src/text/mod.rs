//! Text processing shared by the model and the lexicons: normalization (lowercase, punctuation
//! out, informal Indonesian spelled the standard way) and hashed n-gram features.

pub mod features;
pub mod normalize;

pub use features::{FeatureSpec, fnv1a};
pub use normalize::{Normalizer, NormalizerSpec};
