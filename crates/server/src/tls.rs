//! HTTPS (`coupa serve --tls`): a local certificate authority, created once and kept in a
//! directory (its key 0600), issues the server's certificate at each start for the names the
//! server answers to; or a certificate chain and key are given as PEM files. A connector that
//! insists on `https://NAME.coupahost.com` then needs nothing changed but its trust store (the
//! CA certificate, `coupa ca export`) and its name resolution.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CA_CERTIFICATE_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";
/// How long the CA is valid from its creation.
const CA_VALIDITY_DAYS: i64 = 3650;
/// How long a server certificate is valid; each start issues a new one.
const SERVER_CERTIFICATE_VALIDITY_DAYS: i64 = 365;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0}")]
    File(String),
    #[error("cannot make a certificate: {0}")]
    Certificate(String),
}

fn file_error(path: &Path, doing: &str, error: impl std::fmt::Display) -> TlsError {
    TlsError::File(format!("cannot {doing} {}: {error}", path.display()))
}

fn certificate_error(error: impl std::fmt::Display) -> TlsError {
    TlsError::Certificate(error.to_string())
}

/// Where the local CA is kept unless told otherwise: `$XDG_DATA_HOME/coupa/ca`, else
/// `~/.local/share/coupa/ca`, so one CA, trusted once, serves every sandbox of a user.
pub fn default_ca_dir() -> PathBuf {
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|dir| !dir.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        })
        .unwrap_or_else(|| PathBuf::from("."));
    data_home.join("coupa").join("ca")
}

/// The file holding the CA certificate of the local CA kept in `dir`.
pub fn ca_certificate_file(dir: &Path) -> PathBuf {
    dir.join(CA_CERTIFICATE_FILE)
}

/// The local certificate authority kept in one directory.
pub struct LocalCa {
    dir: PathBuf,
    certificate_pem: String,
    key: KeyPair,
}

impl LocalCa {
    /// The CA kept in `dir`; created there first (directory 0700, key 0600) when there is none.
    /// The boolean says whether this call created it.
    pub fn open_or_create(dir: &Path) -> Result<(Self, bool), TlsError> {
        let key_file = dir.join(CA_KEY_FILE);
        if key_file.exists() {
            return Self::open(dir).map(|ca| (ca, false));
        }
        create_private_dir(dir)?;
        let key = KeyPair::generate().map_err(certificate_error)?;
        let mut params = ca_params(&key);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
        let certificate = params.self_signed(&key).map_err(certificate_error)?;
        // The key first: a directory holding a certificate but no key is never taken for a CA.
        if !crate::private_files::write_new_private(&key_file, key.serialize_pem().as_bytes())
            .map_err(|error| file_error(&key_file, "write", error))?
        {
            // Another start created the CA at the same moment: use that one.
            return Self::open(dir).map(|ca| (ca, false));
        }
        let certificate_file = dir.join(CA_CERTIFICATE_FILE);
        std::fs::write(&certificate_file, certificate.pem())
            .map_err(|error| file_error(&certificate_file, "write", error))?;
        Ok((
            Self {
                dir: dir.to_path_buf(),
                certificate_pem: certificate.pem(),
                key,
            },
            true,
        ))
    }

    fn open(dir: &Path) -> Result<Self, TlsError> {
        let key_file = dir.join(CA_KEY_FILE);
        crate::private_files::refuse_open_to_others(&key_file).map_err(TlsError::File)?;
        let key_pem = std::fs::read_to_string(&key_file)
            .map_err(|error| file_error(&key_file, "read", error))?;
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|error| file_error(&key_file, "read the key in", error))?;
        let certificate_file = dir.join(CA_CERTIFICATE_FILE);
        let certificate_pem = std::fs::read_to_string(&certificate_file)
            .map_err(|error| file_error(&certificate_file, "read", error))?;
        CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|error| file_error(&certificate_file, "read the certificate in", error))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            certificate_pem,
            key,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the CA certificate, to give to clients.
    pub fn certificate_file(&self) -> PathBuf {
        ca_certificate_file(&self.dir)
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    pub fn certificate_der(&self) -> Result<Vec<u8>, TlsError> {
        CertificateDer::from_pem_slice(self.certificate_pem.as_bytes())
            .map(|der| der.to_vec())
            .map_err(certificate_error)
    }

    /// The SHA-256 of the certificate, as `openssl x509 -fingerprint -sha256` shows it.
    pub fn sha256_fingerprint(&self) -> Result<String, TlsError> {
        let der = self.certificate_der()?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
        Ok(digest
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect::<Vec<_>>()
            .join(":"))
    }

    /// A server certificate for `names` (host names, `*.` wildcards, IP addresses) with its
    /// new key, signed by this CA: the chain (server certificate, CA certificate) and the key.
    pub fn issue(&self, names: &[String]) -> Result<ServerIdentity, TlsError> {
        let key = KeyPair::generate().map_err(certificate_error)?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(|error| {
            TlsError::Certificate(format!(
                "a host name is not valid in a certificate: {error}"
            ))
        })?;
        let mut name = DistinguishedName::new();
        name.push(
            DnType::CommonName,
            names.first().map_or("localhost", String::as_str),
        );
        params.distinguished_name = name;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(SERVER_CERTIFICATE_VALIDITY_DAYS);
        let issuer = Issuer::new(ca_params(&self.key), &self.key);
        let certificate = params.signed_by(&key, &issuer).map_err(certificate_error)?;
        let ca = CertificateDer::from_pem_slice(self.certificate_pem.as_bytes())
            .map_err(certificate_error)?;
        Ok(ServerIdentity {
            chain: vec![certificate.der().clone(), ca],
            key: PrivateKeyDer::try_from(key.serialize_der()).map_err(certificate_error)?,
        })
    }
}

/// The CA's parameters, all but its validity: rebuilt from its key at each start, so the
/// issuer name and key identifier written into server certificates match the kept CA
/// certificate without parsing it.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "coupa-oauth");
    name.push(
        DnType::CommonName,
        format!("coupa-oauth local CA {}", key_fingerprint(key)),
    );
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Eight hex digits of the SHA-256 of the public key: tells one user's CA from another's in
/// a trust store.
fn key_fingerprint(key: &KeyPair) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.public_key_raw());
    digest.as_ref()[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|error| file_error(dir, "create the directory", error))
}

/// A certificate chain and its private key.
pub struct ServerIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl ServerIdentity {
    /// A chain and key from PEM files (the key file 0600).
    pub fn from_files(certificate: &Path, key: &Path) -> Result<Self, TlsError> {
        crate::private_files::refuse_open_to_others(key).map_err(TlsError::File)?;
        let chain = CertificateDer::pem_file_iter(certificate)
            .map_err(|error| file_error(certificate, "read", error))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| file_error(certificate, "read the certificates in", error))?;
        if chain.is_empty() {
            return Err(TlsError::File(format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                certificate.display()
            )));
        }
        let key_der = PrivateKeyDer::from_pem_file(key)
            .map_err(|error| file_error(key, "read a private key from", error))?;
        Ok(Self {
            chain,
            key: key_der,
        })
    }

    /// The rustls configuration serving this identity over HTTP/1.1.
    pub fn server_config(self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(certificate_error)?
            .with_no_client_auth()
            .with_single_cert(self.chain, self.key)
            .map_err(|error| {
                TlsError::Certificate(format!(
                    "the certificate and key do not go together: {error}"
                ))
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The names a server certificate from the local CA covers: `localhost`, `127.0.0.1`, the
/// listen address when it names one host, and the configured host names.
pub fn certificate_names(hosts: &[String], listen: std::net::SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    names.extend(hosts.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| seen.insert(name.to_ascii_lowercase()));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_private_and_issues_for_the_names_asked() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        let (ca, created) = LocalCa::open_or_create(&ca_dir).unwrap();
        assert!(created);
        assert_eq!(
            crate::private_files::open_to_others(&ca_dir.join(CA_KEY_FILE)),
            None
        );
        let (again, created) = LocalCa::open_or_create(&ca_dir).unwrap();
        assert!(!created);
        assert_eq!(ca.certificate_pem(), again.certificate_pem());
        let identity = again
            .issue(&[
                "localhost".into(),
                "acme.coupahost.com".into(),
                "127.0.0.1".into(),
            ])
            .unwrap();
        assert_eq!(identity.chain.len(), 2);
        identity.server_config().unwrap();
    }

    #[test]
    fn a_ca_key_open_to_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        LocalCa::open_or_create(dir.path()).unwrap();
        let key = dir.path().join(CA_KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = LocalCa::open_or_create(dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("chmod 600"), "{error}");
    }

    #[test]
    fn certificate_names_start_with_this_machine_and_keep_each_once() {
        let names = certificate_names(
            &["acme.coupahost.com".into(), "LOCALHOST".into()],
            "0.0.0.0:8443".parse().unwrap(),
        );
        assert_eq!(names, ["localhost", "127.0.0.1", "acme.coupahost.com"]);
    }
}
