//! `coupa ca`: the local certificate authority of `coupa serve --tls`.

use std::io::Write as _;
use std::path::Path;

use coupa_server::tls::LocalCa;
use serde::Serialize;

use crate::Failure;
use crate::opt::{CaArgs, CaCommand, CaFormat, Output};
use crate::output;

pub fn exec(args: CaArgs, format: Output) -> Result<(), Failure> {
    let dir = args
        .ca_dir
        .unwrap_or_else(coupa_server::tls::default_ca_dir);
    let (ca, created) = LocalCa::open_or_create(&dir).map_err(|error| {
        Failure::new(error.to_string())
            .hint("give another directory with --ca-dir (or COUPA_CA_DIR)")
    })?;
    if created {
        eprintln!(
            "coupa ca: created a local certificate authority in {}",
            dir.display()
        );
    }
    match args.command {
        CaCommand::Export { format: ca_format } => export(&ca, ca_format, format),
        CaCommand::TrustHelp { hosts, address } => {
            let help = TrustHelp::new(&ca.certificate_file(), &hosts, address);
            if format.is_json() {
                output::json(&help)
            } else {
                help.print();
                Ok(())
            }
        }
    }
}

#[derive(Serialize)]
struct Exported<'a> {
    file: String,
    /// SHA-256 of the DER certificate, as `openssl x509 -fingerprint -sha256` shows it.
    sha256_fingerprint: String,
    pem: &'a str,
}

fn export(ca: &LocalCa, ca_format: CaFormat, format: Output) -> Result<(), Failure> {
    let failed = |error: coupa_server::tls::TlsError| Failure::new(error.to_string());
    if format.is_json() {
        return output::json(&Exported {
            file: ca.certificate_file().display().to_string(),
            sha256_fingerprint: ca.sha256_fingerprint().map_err(failed)?,
            pem: ca.certificate_pem(),
        });
    }
    let der = ca.certificate_der().map_err(failed)?;
    match ca_format {
        CaFormat::Pem => {
            out!("{}", ca.certificate_pem());
            Ok(())
        }
        CaFormat::Der => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&der)
                .and_then(|()| stdout.flush())
                .map_err(|error| Failure::new(format!("cannot write the certificate: {error}")))
        }
    }
}

/// The steps that make each kind of client trust the CA, with the file's real path.
#[derive(Serialize)]
struct TrustHelp {
    ca_certificate: String,
    hosts_line: String,
    curl: String,
    python_requests: String,
    node: String,
    java: String,
    debian: String,
    coupa: String,
}

impl TrustHelp {
    fn new(ca_file: &Path, hosts: &[String], address: std::net::IpAddr) -> Self {
        let file = ca_file.display().to_string();
        let hosts: Vec<&str> = if hosts.is_empty() {
            vec!["acme.coupahost.com"]
        } else {
            hosts.iter().map(String::as_str).collect()
        };
        let host = hosts[0];
        Self {
            hosts_line: format!("{address} {}", hosts.join(" ")),
            curl: format!(
                "curl --cacert {file} https://{host}:8443/.well-known/openid-configuration\n\
                 (or without /etc/hosts: add --resolve {host}:8443:{address})"
            ),
            python_requests: format!(
                "export REQUESTS_CA_BUNDLE={file}\n\
                 (requests then trusts this CA alone; to keep the public CAs too, point it at a \
                 copy of certifi's bundle with this file appended)"
            ),
            node: format!(
                "export NODE_EXTRA_CA_CERTS={file}\n(read when node starts; added to Node's own CAs)"
            ),
            java: format!(
                "keytool -importcert -noprompt -alias coupa-oauth-local-ca -file {file} \\\n  \
                 -keystore coupa-truststore.jks -storepass changeit\n\
                 java -Djavax.net.ssl.trustStore=coupa-truststore.jks \
                 -Djavax.net.ssl.trustStorePassword=changeit ...\n\
                 (or import into $JAVA_HOME/lib/security/cacerts with -cacerts)"
            ),
            debian: format!(
                "sudo cp {file} /usr/local/share/ca-certificates/coupa-oauth-local-ca.crt\n\
                 sudo update-ca-certificates\n\
                 (undo: remove the file, then sudo update-ca-certificates --fresh)"
            ),
            coupa: format!(
                "export SSL_CERT_FILE={file}\n(coupa's own commands, e.g. coupa admin --url https://{host}:8443 ...)"
            ),
            ca_certificate: file,
        }
    }

    fn print(&self) {
        outln!(
            "The local certificate authority of `coupa serve --tls`: {}\n\
             Clients trust the sandbox's certificate once they trust this CA. Each step below \
             uses the file above; `coupa ca export` prints it.\n\n\
             Send the instance names to the server: add this line to /etc/hosts (as root)\n  {}\n\n\
             curl\n{}\n\n\
             Python requests\n{}\n\n\
             Node.js\n{}\n\n\
             Java\n{}\n\n\
             Debian and Ubuntu (the system store: curl, wget, OpenSSL, Python's ssl)\n{}\n\n\
             coupa itself\n{}",
            self.ca_certificate,
            self.hosts_line,
            indent(&self.curl),
            indent(&self.python_requests),
            indent(&self.node),
            indent(&self.java),
            indent(&self.debian),
            indent(&self.coupa),
        );
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
