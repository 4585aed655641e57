//! Signing of Apple configuration profiles: a CMS (PKCS #7) SignedData,
//! DER, content attached, signer certificate and chain included, so that
//! iOS and macOS show the profile as "Verified". Owns loading and checking
//! the signing certificate and key (once, at start-up); knows nothing of
//! plists or HTTP.
//!
//! The CMS structures come from RustCrypto's `cms`/`der`/`x509-cert` (types
//! and DER encoding only, no crypto of their own); the signature is made by
//! ring through rustls's key loading, which is already how the TLS key is
//! read (PKCS #8, PKCS #1 and SEC1 PEM all work).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode, Tag};
use rustls::SignatureScheme;
use rustls::sign::Signer;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::config::{CertificateFiles, SigningSource};
use crate::tls::TlsError;

/// RFC 5652 §4: id-data.
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// RFC 5652 §5.1: id-signedData.
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// RFC 5652 §11.1–11.3: the signed attributes we write.
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// RFC 5754 §2: SHA-2 digest algorithms.
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
/// RFC 5754 §3.2 (ECDSA) and §3.3 (RSA PKCS #1 v1.5).
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("{path}: cannot read the profile signing certificate chain: {reason}", path = path.display())]
    Certificate { path: PathBuf, reason: String },
    #[error("{path}: cannot use the profile signing key: {reason}", path = path.display())]
    PrivateKey { path: PathBuf, reason: String },
    #[error(
        "{certificate} and {private_key} do not go together (the key is not the \
         certificate's): {reason}",
        certificate = certificate.display(), private_key = private_key.display()
    )]
    Mismatch {
        certificate: PathBuf,
        private_key: PathBuf,
        reason: String,
    },
    #[error(
        "{path}: certificate {subject} {problem}; Apple devices show profiles signed with it \
         as unsigned. Renew it, or set `sign = false` in [apple]",
        path = path.display()
    )]
    NotValidNow {
        path: PathBuf,
        subject: String,
        problem: String,
    },
    #[error("cannot sign the profile: {0}")]
    Sign(String),
}

/// The signature algorithms a profile can be signed with, and the digest
/// each implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    EcdsaP256Sha256,
    EcdsaP384Sha384,
    RsaPkcs1Sha256,
}

impl Algorithm {
    fn from_scheme(scheme: SignatureScheme) -> Option<Algorithm> {
        match scheme {
            SignatureScheme::ECDSA_NISTP256_SHA256 => Some(Algorithm::EcdsaP256Sha256),
            SignatureScheme::ECDSA_NISTP384_SHA384 => Some(Algorithm::EcdsaP384Sha384),
            SignatureScheme::RSA_PKCS1_SHA256 => Some(Algorithm::RsaPkcs1Sha256),
            _ => None,
        }
    }

    fn digest(self) -> &'static ring::digest::Algorithm {
        match self {
            Algorithm::EcdsaP256Sha256 | Algorithm::RsaPkcs1Sha256 => &ring::digest::SHA256,
            Algorithm::EcdsaP384Sha384 => &ring::digest::SHA384,
        }
    }

    /// RFC 5754 §2: the parameters of SHA-2 identifiers are absent.
    fn digest_identifier(self) -> AlgorithmIdentifierOwned {
        let oid = match self {
            Algorithm::EcdsaP256Sha256 | Algorithm::RsaPkcs1Sha256 => ID_SHA256,
            Algorithm::EcdsaP384Sha384 => ID_SHA384,
        };
        AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        }
    }

    /// RFC 5754 §3.2: ECDSA parameters are absent; §3.3: RSA's are NULL.
    fn signature_identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            Algorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA256,
                parameters: None,
            },
            Algorithm::EcdsaP384Sha384 => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA384,
                parameters: None,
            },
            Algorithm::RsaPkcs1Sha256 => AlgorithmIdentifierOwned {
                oid: SHA256_WITH_RSA,
                parameters: Some(Any::null()),
            },
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256Sha256 => "ECDSA P-256 with SHA-256",
            Algorithm::EcdsaP384Sha384 => "ECDSA P-384 with SHA-384",
            Algorithm::RsaPkcs1Sha256 => "RSA PKCS #1 v1.5 with SHA-256",
        }
    }
}

/// A loaded, checked signing identity. Built once at start-up and shared by
/// every request: signing does no file I/O and no key parsing.
#[derive(Debug)]
pub struct ProfileSigner {
    signer: Box<dyn Signer>,
    algorithm: Algorithm,
    /// The signer's certificate then its intermediates, as written in the
    /// `SignedData` (devices need the intermediates to say "Verified").
    certificates: CertificateSet,
    signer_id: SignerIdentifier,
    /// For `mailsetup check` and start-up messages.
    subject: String,
    not_after: SystemTime,
}

impl ProfileSigner {
    /// Loads the signer described by `source`; `None` when signing is off.
    pub fn load(source: &SigningSource) -> Result<Option<ProfileSigner>, SigningError> {
        match source {
            SigningSource::Off => Ok(None),
            SigningSource::Files {
                certificate,
                private_key,
            } => ProfileSigner::from_files(certificate, private_key).map(Some),
        }
    }

    pub fn from_files(
        certificate: &Path,
        private_key: &Path,
    ) -> Result<ProfileSigner, SigningError> {
        let cert_error = |reason: String| SigningError::Certificate {
            path: certificate.to_owned(),
            reason,
        };
        let key_error = |reason: String| SigningError::PrivateKey {
            path: private_key.to_owned(),
            reason,
        };
        // The same reading and key check as TLS certificates.
        let files = CertificateFiles {
            certificate: certificate.to_owned(),
            private_key: private_key.to_owned(),
        };
        let certified = crate::tls::read_certified_key(&files).map_err(|error| match error {
            TlsError::Certificate { path, reason } => SigningError::Certificate { path, reason },
            TlsError::Mismatch {
                certificate,
                private_key,
                reason,
            } => SigningError::Mismatch {
                certificate,
                private_key,
                reason,
            },
            other => key_error(other.to_string()),
        })?;
        let chain = certified.cert.clone();
        let key = certified.key.clone();

        let signer = key
            .choose_scheme(&[
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::RSA_PKCS1_SHA256,
            ])
            .ok_or_else(|| {
                key_error(format!(
                    "{:?} keys cannot sign profiles; use an ECDSA P-256/P-384 or RSA key",
                    key.algorithm()
                ))
            })?;
        let algorithm = Algorithm::from_scheme(signer.scheme()).ok_or_else(|| {
            key_error(format!("unexpected signature scheme {:?}", signer.scheme()))
        })?;

        let mut parsed = Vec::with_capacity(chain.len());
        for (index, der) in chain.iter().enumerate() {
            let parsed_cert = Certificate::from_der(der.as_ref()).map_err(|e| {
                cert_error(format!(
                    "certificate #{} is not valid DER X.509: {e}",
                    index + 1
                ))
            })?;
            parsed.push(parsed_cert);
        }
        let now = SystemTime::now();
        for cert in &parsed {
            let validity = &cert.tbs_certificate.validity;
            let subject = cert.tbs_certificate.subject.to_string();
            let not_before = validity.not_before.to_system_time();
            let not_after = validity.not_after.to_system_time();
            let problem = if now < not_before {
                Some(format!("is not valid before {}", validity.not_before))
            } else if now > not_after {
                Some(format!("expired on {}", validity.not_after))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(SigningError::NotValidNow {
                    path: certificate.to_owned(),
                    subject,
                    problem,
                });
            }
        }
        let leaf = &parsed[0].tbs_certificate;
        let signer_id = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.issuer.clone(),
            serial_number: leaf.serial_number.clone(),
        });
        let subject = leaf.subject.to_string();
        let not_after = leaf.validity.not_after.to_system_time();
        let certificates = CertificateSet(
            SetOfVec::try_from(
                parsed
                    .into_iter()
                    .map(cms::cert::CertificateChoices::Certificate)
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| cert_error(format!("cannot encode the chain: {e}")))?,
        );
        Ok(ProfileSigner {
            signer,
            algorithm,
            certificates,
            signer_id,
            subject,
            not_after,
        })
    }

    /// The signer certificate's subject, e.g. `CN=autoconfig.contoso.com`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The signature algorithm, in words.
    pub fn algorithm_name(&self) -> &'static str {
        self.algorithm.name()
    }

    /// Time left before the signer certificate expires (zero once expired).
    pub fn remaining_validity(&self) -> Duration {
        self.not_after
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    }

    /// Wraps `content` in a DER `ContentInfo` holding a `SignedData` whose
    /// encapsulated content is `content`, byte for byte (RFC 5652 §5).
    pub fn sign(&self, content: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.sign_at(content, SystemTime::now())
    }

    fn sign_at(&self, content: &[u8], time: SystemTime) -> Result<Vec<u8>, SigningError> {
        let encode_error = |e: der::Error| SigningError::Sign(e.to_string());
        let digest = ring::digest::digest(self.algorithm.digest(), content);

        // RFC 5652 §5.3: with signed attributes present, content-type and
        // message-digest are mandatory; signing-time is what devices show.
        let signed_attributes = SetOfVec::try_from(vec![
            attribute(
                ID_CONTENT_TYPE,
                Any::from_der(&ID_DATA.to_der().map_err(encode_error)?).map_err(encode_error)?,
            )?,
            attribute(
                ID_MESSAGE_DIGEST,
                Any::new(Tag::OctetString, digest.as_ref()).map_err(encode_error)?,
            )?,
            attribute(
                ID_SIGNING_TIME,
                Any::from_der(
                    &UtcTime::from_system_time(time)
                        .and_then(|t| t.to_der())
                        .map_err(encode_error)?,
                )
                .map_err(encode_error)?,
            )?,
        ])
        .map_err(encode_error)?;
        // §5.4: the signature covers the DER of the attributes as a SET OF,
        // not the [0] IMPLICIT form they take inside SignerInfo.
        let to_be_signed = signed_attributes.to_der().map_err(encode_error)?;
        let signature = self
            .signer
            .sign(&to_be_signed)
            .map_err(|e| SigningError::Sign(e.to_string()))?;

        let signer_info = SignerInfo {
            // §5.3: version 1 with issuerAndSerialNumber.
            version: CmsVersion::V1,
            sid: self.signer_id.clone(),
            digest_alg: self.algorithm.digest_identifier(),
            signed_attrs: Some(signed_attributes),
            signature_algorithm: self.algorithm.signature_identifier(),
            signature: OctetString::new(signature).map_err(encode_error)?,
            unsigned_attrs: None,
        };
        let signed_data = SignedData {
            // §5.1: version 1 for id-data content, X.509 certificates only
            // and version 1 signer infos.
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![self.algorithm.digest_identifier()])
                .map_err(encode_error)?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent: Some(Any::new(Tag::OctetString, content).map_err(encode_error)?),
            },
            certificates: Some(self.certificates.clone()),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(encode_error)?),
        };
        let content_info = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::from_der(&signed_data.to_der().map_err(encode_error)?)
                .map_err(encode_error)?,
        };
        content_info.to_der().map_err(encode_error)
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, SigningError> {
    let values = SetOfVec::try_from(vec![value]).map_err(|e| SigningError::Sign(e.to_string()))?;
    Ok(Attribute { oid, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_identity(dir: &Path) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["autoconfig.contoso.test".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }

    #[test]
    fn signed_data_round_trips_through_the_cms_decoder_with_content_intact() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_identity(dir.path());
        let signer = ProfileSigner::from_files(&cert, &key).unwrap();
        let der = signer.sign(b"<plist/>").unwrap();
        let info = ContentInfo::from_der(&der).unwrap();
        assert_eq!(info.content_type, ID_SIGNED_DATA);
        let signed: SignedData = info.content.decode_as().unwrap();
        let content = signed.encap_content_info.econtent.unwrap();
        assert_eq!(content.value(), b"<plist/>");
        let signer_info = signed.signer_infos.0.get(0).unwrap();
        assert_eq!(signer_info.signature_algorithm.oid, ECDSA_WITH_SHA256);
        assert_eq!(signed.certificates.unwrap().0.len(), 1);
    }
}
