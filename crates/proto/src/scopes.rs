//! The scope catalogue: every scope a Coupa instance knows, what it is for and which API
//! permissions (method + path pattern) it grants. `{id}` in a pattern matches one path segment.
//!
//! Sources: seed 004's object table and the public scope map. Where no public source names the
//! scope of an object (items, quote requests), the `core.item.*` and `core.sourcing.*` scopes
//! are this project's choice, noted in docs/coupa-compatibility.md.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub method: &'static str,
    pub path: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScopeDef {
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [Permission],
}

const fn get(path: &'static str) -> Permission {
    Permission {
        method: "GET",
        path,
    }
}
const fn post(path: &'static str) -> Permission {
    Permission {
        method: "POST",
        path,
    }
}
const fn put(path: &'static str) -> Permission {
    Permission {
        method: "PUT",
        path,
    }
}
const fn delete(path: &'static str) -> Permission {
    Permission {
        method: "DELETE",
        path,
    }
}

/// The scopes every Coupa OAuth app carries by default (seed 004).
pub const DEFAULT_SCOPES: &[&str] = &[
    "login",
    "offline_access",
    "openid",
    "profile",
    "core.common.read",
];

pub static CATALOGUE: &[ScopeDef] = &[
    ScopeDef {
        name: "openid",
        description: "Sign the user in with OpenID Connect and issue an ID token.",
        permissions: &[],
    },
    ScopeDef {
        name: "login",
        description: "The user's login name, as a claim.",
        permissions: &[],
    },
    ScopeDef {
        name: "email",
        description: "The user's email address, as a claim.",
        permissions: &[],
    },
    ScopeDef {
        name: "profile",
        description: "The user's name and profile claims.",
        permissions: &[],
    },
    ScopeDef {
        name: "offline_access",
        description: "A refresh token, for the authorization code and device grants.",
        permissions: &[],
    },
    ScopeDef {
        name: "core.common.read",
        description: "Read shared reference data: addresses, attachments, business groups, commodities, currencies, departments, exchange rates, lookups, payment terms, roles, shipping terms, tax codes, units of measure.",
        permissions: &[
            get("/api/addresses"),
            get("/api/addresses/{id}"),
            get("/api/attachments"),
            get("/api/attachments/{id}"),
            get("/api/attachments/{id}/file"),
            get("/api/business_groups"),
            get("/api/business_groups/{id}"),
            get("/api/commodities"),
            get("/api/commodities/{id}"),
            get("/api/currencies"),
            get("/api/currencies/{id}"),
            get("/api/departments"),
            get("/api/departments/{id}"),
            get("/api/exchange_rates"),
            get("/api/exchange_rates/{id}"),
            get("/api/lookups"),
            get("/api/lookups/{id}"),
            get("/api/lookup_values"),
            get("/api/lookup_values/{id}"),
            get("/api/payment_terms"),
            get("/api/payment_terms/{id}"),
            get("/api/roles"),
            get("/api/roles/{id}"),
            get("/api/shipping_terms"),
            get("/api/shipping_terms/{id}"),
            get("/api/tax_codes"),
            get("/api/tax_codes/{id}"),
            get("/api/uoms"),
            get("/api/uoms/{id}"),
        ],
    },
    ScopeDef {
        name: "core.common.write",
        description: "Create and update shared reference data: addresses, business groups, commodities, departments, exchange rates, lookups and their values, payment terms, shipping terms.",
        permissions: &[
            post("/api/addresses"),
            put("/api/addresses/{id}"),
            post("/api/business_groups"),
            put("/api/business_groups/{id}"),
            post("/api/commodities"),
            put("/api/commodities/{id}"),
            post("/api/departments"),
            put("/api/departments/{id}"),
            post("/api/exchange_rates"),
            put("/api/exchange_rates/{id}"),
            post("/api/lookups"),
            put("/api/lookups/{id}"),
            post("/api/lookup_values"),
            put("/api/lookup_values/{id}"),
            post("/api/payment_terms"),
            put("/api/payment_terms/{id}"),
            post("/api/shipping_terms"),
            put("/api/shipping_terms/{id}"),
        ],
    },
    ScopeDef {
        name: "core.accounting.read",
        description: "Read accounts and account types.",
        permissions: &[
            get("/api/accounts"),
            get("/api/accounts/{id}"),
            get("/api/account_types"),
            get("/api/account_types/{id}"),
        ],
    },
    ScopeDef {
        name: "core.accounting.write",
        description: "Create and update accounts.",
        permissions: &[
            post("/api/accounts"),
            put("/api/accounts/{id}"),
            post("/api/account_types"),
            post("/api/account_types/{id}/copy"),
        ],
    },
    ScopeDef {
        name: "core.approval.read",
        description: "Read approvals.",
        permissions: &[get("/api/approvals"), get("/api/approvals/{id}")],
    },
    ScopeDef {
        name: "core.approval.write",
        description: "Approve, reject and hold approvals.",
        permissions: &[
            put("/api/approvals/{id}/approve"),
            put("/api/approvals/{id}/reject"),
            put("/api/approvals/{id}/hold"),
        ],
    },
    ScopeDef {
        name: "core.budget.read",
        description: "Read budget lines.",
        permissions: &[get("/api/budget_lines"), get("/api/budget_lines/{id}")],
    },
    ScopeDef {
        name: "core.budget.write",
        description: "Create and update budget lines.",
        permissions: &[post("/api/budget_lines"), put("/api/budget_lines/{id}")],
    },
    ScopeDef {
        name: "core.contract.read",
        description: "Read contracts.",
        permissions: &[
            get("/api/contracts"),
            get("/api/contracts/{id}"),
            get("/api/contracts/{id}/attachments"),
            get("/api/contracts/{id}/attachments/{id}"),
        ],
    },
    ScopeDef {
        name: "core.contract.write",
        description: "Create and update contracts; submit them for approval and complete them.",
        permissions: &[
            post("/api/contracts"),
            put("/api/contracts/{id}"),
            put("/api/contracts/{id}/submit_for_approval"),
            put("/api/contracts/{id}/complete"),
            post("/api/contracts/{id}/attachments"),
        ],
    },
    ScopeDef {
        name: "core.expense.read",
        description: "Read expense reports, expense lines, expense categories and policies.",
        permissions: &[
            get("/api/expense_reports"),
            get("/api/expense_reports/{id}"),
            get("/api/expense_reports/{id}/attachments"),
            get("/api/expense_reports/{id}/attachments/{id}"),
            get("/api/expense_lines"),
            get("/api/expense_lines/{id}"),
            get("/api/expense_reports/{id}/expense_lines"),
            get("/api/expense_reports/{id}/expense_lines/{id}"),
            get("/api/expense_categories"),
            get("/api/expense_categories/{id}"),
            get("/api/expense_policies"),
            get("/api/expense_policies/{id}"),
        ],
    },
    ScopeDef {
        name: "core.expense.write",
        description: "Create, update and submit expense reports.",
        permissions: &[
            post("/api/expense_reports"),
            put("/api/expense_reports/{id}"),
            put("/api/expense_reports/{id}/submit"),
            post("/api/expense_lines"),
            put("/api/expense_lines/{id}"),
            delete("/api/expense_lines/{id}"),
            post("/api/expense_reports/{id}/expense_lines"),
            put("/api/expense_reports/{id}/expense_lines/{id}"),
            delete("/api/expense_reports/{id}/expense_lines/{id}"),
            post("/api/expense_reports/{id}/attachments"),
        ],
    },
    ScopeDef {
        name: "core.invoice.read",
        description: "Read invoices, their image scans, legal PDFs and clearance documents.",
        permissions: &[
            get("/api/invoices"),
            get("/api/invoices/{id}"),
            get("/api/invoices/{id}/retrieve_image_scan"),
            get("/api/invoices/{id}/retrieve_legal_invoice_pdf"),
            get("/api/invoices/{id}/retrieve_clearance_document"),
            get("/api/invoices/{id}/attachments"),
            get("/api/invoices/{id}/attachments/{id}"),
            get("/api/invoice_lines"),
            get("/api/invoice_lines/{id}"),
            get("/api/invoice_charges"),
            get("/api/invoice_charges/{id}"),
        ],
    },
    ScopeDef {
        name: "core.invoice.write",
        description: "Create, update, submit and dispute invoices; withdraw disputes, mark invoices exported, revalidate tolerances.",
        permissions: &[
            post("/api/invoices"),
            put("/api/invoices/{id}"),
            put("/api/invoices/{id}/submit"),
            put("/api/invoices/{id}/dispute"),
            put("/api/invoices/{id}/withdraw_dispute"),
            put("/api/invoices/{id}/mark_exported"),
            put("/api/invoices/{id}/revalidate_tolerances"),
            put("/api/invoices/{id}/restart_approvals"),
            put("/api/invoices/{id}/image_scan"),
            post("/api/invoices/{id}/attachments"),
        ],
    },
    ScopeDef {
        name: "core.invoice.create",
        description: "Create invoices, submit them for approval and add attachments.",
        permissions: &[
            post("/api/invoices"),
            put("/api/invoices/{id}/submit"),
            post("/api/invoices/{id}/attachments"),
        ],
    },
    ScopeDef {
        name: "core.invoice.delete",
        description: "Abandon and void invoices.",
        permissions: &[
            put("/api/invoices/{id}/abandon"),
            put("/api/invoices/{id}/void"),
        ],
    },
    ScopeDef {
        name: "core.invoice.approval.write",
        description: "Approve and reject invoices.",
        permissions: &[
            put("/api/invoices/{id}/approve"),
            put("/api/invoices/{id}/reject"),
        ],
    },
    ScopeDef {
        name: "core.invoice.approval.bypass",
        description: "Bypass the approval chain of invoices.",
        permissions: &[
            put("/api/invoices/{id}/bypass_approvals"),
            put("/api/invoices/{id}/bypass_current_approval"),
        ],
    },
    ScopeDef {
        name: "core.purchase_order.read",
        description: "Read purchase orders, their lines, changes and revisions.",
        permissions: &[
            get("/api/purchase_orders"),
            get("/api/purchase_orders/{id}"),
            get("/api/purchase_order_lines"),
            get("/api/purchase_order_lines/{id}"),
            get("/api/purchase_order_changes"),
            get("/api/purchase_order_changes/{id}"),
            get("/api/purchase_order_line_changes"),
            get("/api/purchase_order_line_changes/{id}"),
            get("/api/purchase_order_revisions"),
            get("/api/purchase_order_revisions/{id}"),
            get("/api/purchase_orders/{id}/attachments"),
            get("/api/purchase_orders/{id}/attachments/{id}"),
        ],
    },
    ScopeDef {
        name: "core.purchase_order.write",
        description: "Create and update purchase orders; issue, cancel, close, reopen and release them; create and soft-close lines.",
        permissions: &[
            post("/api/purchase_orders"),
            put("/api/purchase_orders/{id}"),
            put("/api/purchase_orders/{id}/issue"),
            put("/api/purchase_orders/{id}/issue_without_send"),
            put("/api/purchase_orders/{id}/cancel"),
            put("/api/purchase_orders/{id}/close"),
            put("/api/purchase_orders/{id}/reopen"),
            put("/api/purchase_orders/{id}/release_from_buyer_hold"),
            put("/api/purchase_orders/{id}/ignore_window_and_issue"),
            put("/api/purchase_orders/{id}/export"),
            post("/api/purchase_order_lines"),
            delete("/api/purchase_order_lines/{id}"),
            put("/api/purchase_order_lines/{id}/soft_close"),
            put("/api/purchase_order_lines/{id}/soft_close_for_receiving"),
            put("/api/purchase_order_lines/{id}/reopen_for_receiving"),
            put("/api/purchase_order_lines/{id}/soft_close_for_invoicing"),
            put("/api/purchase_order_lines/{id}/reopen_for_invoicing"),
            post("/api/purchase_order_changes"),
            put("/api/purchase_order_changes/{id}"),
            put("/api/purchase_order_changes/{id}/submit_for_approval"),
            post("/api/purchase_orders/{id}/attachments"),
        ],
    },
    ScopeDef {
        name: "core.requisition.read",
        description: "Read requisitions.",
        permissions: &[
            get("/api/requisitions"),
            get("/api/requisitions/{id}"),
            get("/api/requisition_lines"),
            get("/api/requisition_lines/{id}"),
            get("/api/requisitions/{id}/attachments"),
            get("/api/requisitions/{id}/attachments/{id}"),
        ],
    },
    ScopeDef {
        name: "core.requisition.write",
        description: "Create, update and submit requisitions.",
        permissions: &[
            post("/api/requisitions"),
            put("/api/requisitions/{id}"),
            post("/api/requisitions/new/submit_for_approval"),
            post("/api/requisitions/submit_for_approval"),
            delete("/api/requisitions/{id}"),
            put("/api/requisitions/{id}/submit_for_approval"),
            put("/api/requisitions/{id}/save_for_later"),
            post("/api/requisitions/{id}/attachments"),
            delete("/api/requisitions/{id}/attachments/{id}"),
            delete("/api/requisition_lines/{id}/attachments/{id}"),
        ],
    },
    ScopeDef {
        name: "core.supplier.read",
        description: "Read suppliers.",
        permissions: &[
            get("/api/suppliers"),
            get("/api/suppliers/{id}"),
            get("/api/remit_to_addresses"),
            get("/api/remit_to_addresses/{id}"),
            get("/api/suppliers/{id}/addresses"),
            get("/api/suppliers/{id}/addresses/{id}"),
        ],
    },
    ScopeDef {
        name: "core.supplier.write",
        description: "Create and update suppliers and their remit-to addresses.",
        permissions: &[
            post("/api/suppliers"),
            put("/api/suppliers/{id}"),
            post("/api/suppliers/{id}/addresses"),
            put("/api/suppliers/{id}/addresses/{id}"),
            delete("/api/suppliers/{id}/addresses/{id}"),
            delete("/api/suppliers/{id}/remit_to_addresses/{id}"),
        ],
    },
    ScopeDef {
        name: "core.user.read",
        description: "Read users.",
        permissions: &[
            get("/api/users"),
            get("/api/users/{id}"),
            get("/api/users/{id}/attachments"),
            get("/api/users/{id}/attachments/{id}"),
        ],
    },
    ScopeDef {
        name: "core.user.write",
        description: "Create and update users.",
        permissions: &[
            post("/api/users"),
            put("/api/users/{id}"),
            post("/api/users/{id}/attachments"),
        ],
    },
    ScopeDef {
        name: "core.user_group.read",
        description: "Read user groups.",
        permissions: &[get("/api/user_groups"), get("/api/user_groups/{id}")],
    },
    ScopeDef {
        name: "core.user_group.write",
        description: "Create and update user groups.",
        permissions: &[post("/api/user_groups"), put("/api/user_groups/{id}")],
    },
    ScopeDef {
        name: "core.item.read",
        description: "Read items.",
        permissions: &[get("/api/items"), get("/api/items/{id}")],
    },
    ScopeDef {
        name: "core.item.write",
        description: "Create and update items.",
        permissions: &[post("/api/items"), put("/api/items/{id}")],
    },
    ScopeDef {
        name: "core.sourcing.read",
        description: "Read quote requests (sourcing events).",
        permissions: &[
            get("/api/quote_requests"),
            get("/api/quote_requests/{id}"),
            get("/api/quote_request_lines"),
            get("/api/quote_request_lines/{id}"),
            get("/api/quote_requests/{id}/attachments"),
            get("/api/quote_request_lines/{id}/attachments"),
        ],
    },
    ScopeDef {
        name: "core.sourcing.write",
        description: "Create and update quote requests (sourcing events).",
        permissions: &[
            post("/api/quote_requests"),
            put("/api/quote_requests/{id}"),
            post("/api/quote_requests/{id}/attachments"),
            delete("/api/quote_requests/{id}/attachments/{id}"),
            post("/api/quote_request_lines/{id}/attachments"),
            delete("/api/quote_request_lines/{id}/attachments/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.common.read",
        description: "Read inventory transactions of every kind.",
        permissions: &[
            get("/api/inventory_transactions"),
            get("/api/inventory_transactions/{id}"),
            get("/api/inventory_transactions/{id}/attachments/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.adjustment.read",
        description: "Read inventory adjustments.",
        permissions: &[
            get("/api/inventory_transactions"),
            get("/api/inventory_transactions/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.adjustment.write",
        description: "Record and void inventory adjustments.",
        permissions: &[
            post("/api/inventory_transactions"),
            put("/api/inventory_transactions/{id}/void"),
        ],
    },
    ScopeDef {
        name: "core.inventory.asn.read",
        description: "Read advance shipping notices.",
        permissions: &[
            get("/api/inventory_transactions"),
            get("/api/inventory_transactions/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.balance.read",
        description: "Read inventory balances.",
        permissions: &[
            get("/api/inventory_transactions"),
            get("/api/inventory_transactions/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.consumption.read",
        description: "Read inventory consumptions.",
        permissions: &[
            get("/api/inventory_transactions"),
            get("/api/inventory_transactions/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.consumption.write",
        description: "Record and void inventory consumptions.",
        permissions: &[
            post("/api/inventory_transactions"),
            put("/api/inventory_transactions/{id}/void"),
        ],
    },
    ScopeDef {
        name: "core.inventory.receiving.read",
        description: "Read receipts.",
        permissions: &[
            get("/api/inventory_transactions"),
            get("/api/inventory_transactions/{id}"),
            get("/api/receiving_transactions"),
            get("/api/receiving_transactions/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.receiving.write",
        description: "Record and void receipts.",
        permissions: &[
            post("/api/inventory_transactions"),
            put("/api/inventory_transactions/{id}/void"),
            post("/api/receiving_transactions"),
            put("/api/receiving_transactions/{id}"),
            delete("/api/receiving_transactions/{id}"),
            put("/api/receiving_transactions/{id}/void"),
        ],
    },
    ScopeDef {
        name: "core.inventory.transfer.read",
        description: "Read inventory transfers.",
        permissions: &[
            get("/api/inventory_transactions"),
            get("/api/inventory_transactions/{id}"),
        ],
    },
    ScopeDef {
        name: "core.inventory.transfer.write",
        description: "Record and void inventory transfers.",
        permissions: &[
            post("/api/inventory_transactions"),
            put("/api/inventory_transactions/{id}/void"),
        ],
    },
];

/// Looks a scope up by its exact name.
pub fn find(name: &str) -> Option<&'static ScopeDef> {
    CATALOGUE.iter().find(|scope| scope.name == name)
}

/// Whether `pattern` (with `{id}` segments) matches the concrete `path`.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return true,
            (Some(expected), Some(actual)) => {
                let is_placeholder = expected.starts_with('{') && expected.ends_with('}');
                if is_placeholder {
                    if actual.is_empty() {
                        return false;
                    }
                } else if expected != actual {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Every scope that grants `method path`, in catalogue order.
pub fn scopes_granting(method: &str, path: &str) -> Vec<&'static str> {
    // PATCH updates as PUT does, under the same scopes.
    let method = if method == "PATCH" { "PUT" } else { method };
    CATALOGUE
        .iter()
        .filter(|scope| {
            scope.permissions.iter().any(|permission| {
                permission.method == method && pattern_matches(permission.path, path)
            })
        })
        .map(|scope| scope.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|scope| scope.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate scope names");
        for name in names {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'),
                "{name}"
            );
        }
    }

    #[test]
    fn holds_every_scope_of_seed_004_and_the_defaults() {
        let seed_004 = [
            "core.accounting.read",
            "core.accounting.write",
            "core.approval.read",
            "core.budget.read",
            "core.contract.read",
            "core.expense.read",
            "core.inventory.adjustment.read",
            "core.inventory.adjustment.write",
            "core.inventory.asn.read",
            "core.inventory.balance.read",
            "core.inventory.common.read",
            "core.inventory.consumption.read",
            "core.inventory.consumption.write",
            "core.inventory.receiving.read",
            "core.inventory.receiving.write",
            "core.inventory.transfer.read",
            "core.inventory.transfer.write",
            "core.invoice.approval.bypass",
            "core.invoice.approval.write",
            "core.invoice.create",
            "core.invoice.delete",
            "core.invoice.read",
            "core.invoice.write",
            "core.purchase_order.read",
            "core.purchase_order.write",
            "core.requisition.read",
            "core.requisition.write",
            "core.supplier.read",
            "core.supplier.write",
            "core.user_group.read",
            "core.user_group.write",
            "core.user.read",
            "core.user.write",
            "email",
        ];
        for name in seed_004.iter().chain(DEFAULT_SCOPES) {
            assert!(find(name).is_some(), "{name} missing from the catalogue");
        }
    }

    #[test]
    fn patterns_match_one_segment_per_placeholder() {
        assert!(pattern_matches("/api/invoices/{id}", "/api/invoices/42"));
        assert!(!pattern_matches("/api/invoices/{id}", "/api/invoices/"));
        assert!(!pattern_matches(
            "/api/invoices/{id}",
            "/api/invoices/42/void"
        ));
        assert!(!pattern_matches("/api/invoices", "/api/invoices/42"));
        assert_eq!(
            scopes_granting("GET", "/api/invoices"),
            vec!["core.invoice.read"]
        );
        assert_eq!(
            scopes_granting("POST", "/api/invoices"),
            vec!["core.invoice.write", "core.invoice.create"]
        );
        assert!(scopes_granting("DELETE", "/api/invoices/1").is_empty());
        assert_eq!(
            scopes_granting("DELETE", "/api/requisitions/1"),
            vec!["core.requisition.write"]
        );
        assert_eq!(
            scopes_granting("POST", "/api/requisitions/new/submit_for_approval"),
            vec!["core.requisition.write"]
        );
    }
}
