// Package sftest is a Salesforce org held in memory and served over real
// HTTP, for the client's tests, the worker's end-to-end tests, the demo,
// `connector fake-salesforce` and benchmarks. It follows the wire behaviour
// written down in salesforce-api.md; where that file marks a point as
// unconfirmed, the behaviour is a knob whose default is the likeliest
// answer.
//
// An Org holds a schema (Task and Case by default, see DefaultObjects),
// records, connected-app clients and knobs. Start serves it on two loopback
// listeners: the token endpoint on Server.Domain and the data API on
// Server.InstanceURL, so a client that ignores instance_url fails. To serve
// it yourself use TokenHandler and DataHandler (with SetInstanceURL), or
// Handler for both on one port. An Org is safe for concurrent use; lookups
// by id, by external id and SOQL equality or IN conditions go through maps,
// not scans. The package does not import testing.
//
// # Behaviour that follows salesforce-api.md
//
//   - Token (§1): POST /services/oauth2/token with grant_type=client_credentials
//     and credentials in the form body or HTTP Basic. Success carries
//     access_token, instance_url, id, token_type, issued_at (milliseconds),
//     signature and scope, and no expires_in. Errors are {error,
//     error_description} objects: invalid_client_id, invalid_client,
//     invalid_grant "no client credentials user enabled",
//     unsupported_grant_type, invalid_request.
//   - Sessions (§2): Authorization "Bearer <token>" or "OAuth <token>";
//     missing, unknown or expired tokens answer 401
//     [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}].
//   - External-id GET (§3): 200 with the record, 300 with a bare array of
//     record URLs, 404 NOT_FOUND for no match, an unknown field, a field that
//     is neither External ID nor ID Lookup, a value holding "/" (even as
//     %2F) or ending in an extension. The path segment is decoded exactly
//     once and a raw "+" stays a plus. PATCH and POST there are upserts
//     (201 created, 200 updated) and are counted, so tests can prove the
//     connector never uses them.
//   - Query (§4): SELECT fields FROM object [WHERE condition] [LIMIT n], the
//     condition being =, !=, IN or NOT IN with string literals or null,
//     joined by AND or OR, with parentheses required to mix them as in
//     SOQL. Literal escapes are exactly \n \r \t \b \f \" \' \\ \uXXXX, in
//     either case; any other backslash is MALFORMED_QUERY. = ignores case
//     unless the field is case-sensitive; % and _ are plain characters.
//     Errors: INVALID_FIELD "No such column…" and "can not be filtered",
//     INVALID_TYPE, MALFORMED_QUERY, with the "ERROR at Row:R:Column:C"
//     prefix. More than 2000 rows (or the Sforce-Query-Options batchSize)
//     page through nextRecordsUrl.
//   - Update (§5): PATCH sobjects/{Object}/{Id} answers 204 and checks, in
//     order, JSON syntax (JSON_PARSER_ERROR), unknown fields
//     (INVALID_FIELD), read-only fields (INVALID_FIELD_FOR_INSERT_UPDATE),
//     lengths (STRING_TOO_LONG, "<Label>: data value too large: <value>
//     (max length=N)", counted in UTF-16 code units), If-Unmodified-Since
//     (412 when LastModifiedDate, truncated to seconds, is later; 400 when
//     unparsable), deleted records (404 ENTITY_IS_DELETED), unknown ids (404
//     NOT_FOUND) and ill-formed ids (404 "Provided external ID field does
//     not exist or is not accessible: X"). A write to a unique field that
//     another record holds answers DUPLICATE_VALUE.
//   - Limits (§7): every data response, errors included, carries
//     Sforce-Limit-Info: api-usage=N/M; GET /services/data/ needs no token
//     and carries none. Versions 31.0 to 68.0 are served, 21.0 to 30.0
//     answer 410, others 404.
//   - Describe (§8): name, label, keyPrefix, queryable, updateable and
//     fields with name, label, type, length, byteLength, externalId,
//     idLookup, unique, caseSensitive, updateable, createable, nillable,
//     filterable, extraTypeInfo, htmlFormatted, calculated and soapType.
//   - Ids (§10): 18 characters, the key prefix, a pod code, ten base-62
//     characters and the case checksum. 15-character ids are
//     case-sensitive, 18-character ids are not; ID18 converts. Object and
//     field names are case-insensitive in paths and SOQL.
//
// Responses are JSON with Content-Type application/json;charset=UTF-8.
// REST errors are arrays of {message, errorCode[, fields]}.
//
// # Knobs
//
//   - SetClock: the time for CreatedDate, LastModifiedDate and issued_at.
//   - ExpireTokens, SetTokenLifetime (calls per token), SetRunAsUser,
//     SetInvalidClientStatus (400 by default; the real status is
//     unconfirmed).
//   - SetLatency: delay added to each data call.
//   - FailNext and SetFaultRate with FaultUnavailable, FaultLockRow,
//     FaultRequestLimit, FaultServerError or any Fault.
//   - SetHook: a function run at the start of each data request, before
//     authentication, for example to race a write.
//   - SetUsage and SetEnforceLimit: the api-usage figures, and whether
//     reaching the limit answers 403 REQUEST_LIMIT_EXCEEDED (off by
//     default).
//   - SetCountBytes: STRING_TOO_LONG counts UTF-8 bytes, as a 2026 help
//     article says, instead of characters.
//   - SetExternalIDCaseSensitive: by default the external-id path matches
//     like SOQL, ignoring case unless the field is case-sensitive.
//   - SetPathExtensions: which value suffixes the external-id path refuses;
//     by default any "." followed by letters.
//   - SetExternalIDFieldsParam: honour ?fields= on the external-id GET
//     (ignored by default, as documented).
//
// Calls counts requests: Token for the token endpoint, API for charged data
// calls, ByEndpoint by resource name (the Endpoint constants).
//
// # Guesses
//
// Salesforce documents no exact answer for these; the fake's choices are
// marked so that nobody mistakes them for facts: the 412 body
// (PRECONDITION_FAILED), the 400 for an unparsable If-Unmodified-Since
// (BAD_REQUEST), the 410 body (GONE), the JSON_PARSER_ERROR messages, the
// MALFORMED_QUERY messages for a literal over 4,000 characters and a
// statement over 100,000, the echoed value in STRING_TOO_LONG (clipped to
// 100 characters), and the metadata of describe beyond the keys above.
//
// # Adding resources
//
// Every data request enters through one handler that routes it (route),
// counts it, applies latency and the hook, checks version, session, limit
// and faults (admit), and then runs the resource. New resources such as
// sObject Collections and Composite add a case to route and an Endpoint
// name; a composite request can serve its subrequests through the same
// routes without charging them again.
package sftest
