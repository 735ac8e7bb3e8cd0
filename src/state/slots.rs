//! The bytes of an online learner's detector and solver slots (see
//! [`crate::online::DetectorSlot`] and [`crate::online::Solver`]): each type the crate
//! implements a slot for writes its body at a fixed length.

use super::codec::{Reader, Writer};
use crate::Error;
use crate::control::drift::{Adwin, AnyDetector, Ddm, Eddm, PageHinkley};
use crate::online::{Gradient, NoDetector};
use crate::optim::Rls;

pub(crate) mod sealed {
    use super::{Error, Reader, Writer};
    /// The bytes of an online learner's detector or solver slot: the bound of
    /// [`OnlineLearner::encode`](crate::online::OnlineLearner::encode) and
    /// [`decode`](crate::online::OnlineLearner::decode) on its `W` and `S`, implemented for
    /// every detector type, [`NoDetector`](crate::online::NoDetector),
    /// [`Gradient`](crate::online::Gradient) and [`Rls`](crate::optim::Rls). Name it in a
    /// generic function that encodes a learner (`W: DetectorSlot + SlotCodec`); it cannot be
    /// implemented outside the crate (its methods take the crate's codec types).
    pub trait SlotCodec: Sized {
        /// Bytes of [`put`](Self::put).
        const RAW_LEN: usize;
        /// Writes the body.
        #[allow(private_interfaces)]
        fn put(&self, w: &mut Writer<'_>);
        /// Reads and validates a body.
        #[allow(private_interfaces)]
        fn get(r: &mut Reader<'_>) -> Result<Self, Error>;
    }
}
use sealed::SlotCodec;

macro_rules! codec {
    ($ty:ty, $raw:expr, $put:path, $get:path) => {
        impl SlotCodec for $ty {
            const RAW_LEN: usize = $raw;
            #[allow(private_interfaces)]
            fn put(&self, w: &mut Writer<'_>) {
                $put(w, self);
            }
            #[allow(private_interfaces)]
            fn get(r: &mut Reader<'_>) -> Result<Self, Error> {
                $get(r)
            }
        }
    };
}

codec!(
    PageHinkley,
    super::PAGE_HINKLEY_RAW_LEN,
    super::drift::put_page_hinkley,
    super::drift::get_page_hinkley
);
codec!(
    Adwin,
    super::ADWIN_RAW_LEN,
    super::drift::put_adwin,
    super::drift::get_adwin
);
codec!(
    Ddm,
    super::DDM_RAW_LEN,
    super::drift::put_ddm,
    super::drift::get_ddm
);
codec!(
    Eddm,
    super::EDDM_RAW_LEN,
    super::drift::put_eddm,
    super::drift::get_eddm
);
codec!(
    AnyDetector,
    super::DETECTOR_RAW_LEN,
    super::drift::put_detector,
    super::drift::get_detector
);

impl SlotCodec for NoDetector {
    const RAW_LEN: usize = 0;
    #[allow(private_interfaces)]
    fn put(&self, _: &mut Writer<'_>) {}
    #[allow(private_interfaces)]
    fn get(_: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self)
    }
}

impl SlotCodec for Gradient {
    const RAW_LEN: usize = 0;
    #[allow(private_interfaces)]
    fn put(&self, _: &mut Writer<'_>) {}
    #[allow(private_interfaces)]
    fn get(_: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self)
    }
}

impl<const D: usize> SlotCodec for Rls<D> {
    const RAW_LEN: usize = super::rls_len(D);
    #[allow(private_interfaces)]
    fn put(&self, w: &mut Writer<'_>) {
        super::rls::put_rls(w, self);
    }
    #[allow(private_interfaces)]
    fn get(r: &mut Reader<'_>) -> Result<Self, Error> {
        super::rls::get_rls(r)
    }
}
