import Foundation
import OEMSyncCore
import OEMSyncFeeds

/// A SOAP feed: what to ask for (``SOAPSourceSettings``), with which credentials, and how hard to try.
///
/// ```yaml
/// source:
///   kind: soap
///   url: https://b2b.acme-motors.example/star/VehicleInventory
///   credentials: acme-star          # auth: {kind: ws_security, user: D001, password_file: ...}
///   version: "1.1"
///   action: http://www.starstandard.org/webservices/2009/transport/operations/ProcessMessage
///   namespaces: {s: "http://schemas.xmlsoap.org/soap/envelope/", star: "http://www.starstandard.org/STAR/5", p: "urn:acme:paging"}
///   body: |
///     <star:GetVehicleInventory xmlns:star="http://www.starstandard.org/STAR/5">…{{continuation}}…</star:GetVehicleInventory>
///   pagination: {style: continuation, path: /s:Envelope/s:Header/p:Paging/p:Continuation}
///   application_error: {code: /s:Envelope/s:Body/star:ConfirmBOD/…/star:ReasonCode, message: …/star:Description}
/// ```
/// Defaults: `version` 1.1; the message id at the business document's `ApplicationArea/BODID`;
/// `batch_rows` 10000; `max_response_bytes` 2 GiB (answers are spooled to disk, never held in
/// memory); `retry`, `timeout` and `tls` as for REST feeds.
public struct SOAPFeedSettings: Sendable {
    public var source: SOAPSourceSettings
    public var credentials: String
    public var retry: RetryPolicy
    public var transport: TransportSettings
    public var clientKeyPassword: SecretSource?
    /// False when the config says `message_id: none`; otherwise a nil ``SOAPSourceSettings/messageID``
    /// means the STAR place, under the mapping's business document.
    public var defaultMessageID: Bool
}
