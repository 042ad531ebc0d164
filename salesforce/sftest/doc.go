// Package sftest is a Salesforce org held in memory and served over real
// HTTP, for the client's tests, the worker's end-to-end tests, the demo and
// benchmarks. It follows the wire behaviour
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
//   - sObject Collections (§6), from version 42.0 (404 before):
//     GET composite/sobjects/{Object}?ids=&fields= and POST of that path
//     with {"ids":[...],"fields":[...]} answer the records in the order of
//     the ids, with null for ids that are ill-formed, of another object,
//     unknown or deleted, and with only attributes and the fields asked
//     for. Both parameters are required; an unknown field is 400
//     INVALID_FIELD. PATCH composite/sobjects with {"allOrNone","records"}
//     takes up to 200 records, each with attributes.type and id, processed
//     in order, and answers 200 with one {id, success, errors} per record
//     in request order, errors being {statusCode, message, fields}: the
//     checks of a single PATCH (INVALID_FIELD,
//     INVALID_FIELD_FOR_INSERT_UPDATE, STRING_TOO_LONG, DUPLICATE_VALUE,
//     ENTITY_IS_DELETED) plus MALFORMED_ID "<Label> ID: id value of
//     incorrect type: X" with fields ["Id"] and no id in the result, also
//     for an id of another object. With allOrNone, one failure writes
//     nothing and the other records answer
//     ALL_OR_NONE_OPERATION_ROLLED_BACK. More than 200 records is 400
//     EXCEEDED_ID_LIMIT "record limit reached. cannot submit more than 200
//     records into this call". If-Unmodified-Since is ignored there: the
//     spec documents conditional headers for sObject Rows only. Mixed types
//     are accepted; the limit of 10 type chunks is not enforced. Create and
//     delete through collections are not served (405).
//   - Composite (§6): POST composite with {"allOrNone",
//     "collateSubrequests", "compositeRequest"} answers 200 with
//     {"compositeResponse":[{body, httpHeaders, httpStatusCode,
//     referenceId}]} in order, whatever the subrequests answered; a body
//     is null for a 204. It refuses with a top-level 400, running nothing,
//     more than 25 subrequests, more than 5 query or collections
//     subrequests, and Accept, Authorization or Content-Type in
//     httpHeaders. Each subrequest runs through the same routes and
//     resources as a direct call, so its answers, If-Unmodified-Since (412
//     inside the 200) included, are those of the resource. With allOrNone
//     and a failed subrequest (status 400 or more, or a collections
//     subrequest with a failed record), the writes of the earlier
//     subrequests are undone and every other subrequest answers 400
//     PROCESSING_HALTED; a composite allOrNone also forces allOrNone on its
//     collections subrequests. The whole composite is one API call.
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
// # Composite subrequests
//
// A subrequest is served like a direct call, minus what belongs to the
// top-level request: it is not charged, authenticated, delayed, hooked or
// drawn a FailNext or SetFaultRate fault, and its httpHeaders leave out
// Content-Type and Sforce-Limit-Info. Its API version is checked (410 and
// 404 as for a direct call). A url that does not start with
// /services/data/ answers that subrequest 404 NOT_FOUND, as a path naming
// no resource does; a subrequest that is itself a composite answers 400
// INVALID_INPUT. @{reference} substitution is not implemented: a url or
// body containing "@{" is refused with a top-level 400 INVALID_INPUT
// saying so. collateSubrequests is accepted and changes nothing.
//
// Subrequests run one after another, each taking the org's lock for itself,
// so other requests may interleave between them. The all-or-none undo
// keeps a journal: before the first write of the composite to a record it
// copies the record's values, and it notes records an upsert created; the
// undo restores those values (LastModifiedDate included) and removes the
// created records. A write another request made to the same record between
// two subrequests is therefore lost by the undo, where Salesforce would
// have held a row lock. A collections PATCH holds the lock for all its
// records and undoes itself the same way.
//
// # Knobs
//
//   - SetClock: the time for CreatedDate, LastModifiedDate and issued_at.
//   - ExpireTokens, SetTokenLifetime (calls per token), SetRunAsUser,
//     SetInvalidClientStatus (400 by default; the real status is
//     unconfirmed).
//   - SetLatency: delay added to each data call; once per composite, not
//     per subrequest.
//   - FailNext and SetFaultRate with FaultUnavailable, FaultLockRow,
//     FaultRequestLimit, FaultServerError or any Fault. They apply to
//     top-level calls: a composite answers the fault as a whole and runs
//     none of its subrequests.
//   - SetRecordFaultRate: each record of a collections PATCH, and each
//     single-record write subrequest of a composite (record PATCH or
//     upsert), fails alone with the given Fault and probability, after its
//     own checks and before it is written. A collections record gets
//     {statusCode: Code, message: Message, fields: []}; a subrequest gets
//     the Fault's status and REST error body. Direct calls are unaffected.
//   - SetHook: a function run at the start of each data request, before
//     authentication, for example to race a write; once per composite, not
//     per subrequest, and not at all for a collections GET refused with
//     414.
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
//   - SetWriteObserver: a function told of every record an API write
//     updates (object, id, LastModifiedDate; records an upsert creates are
//     not told), called under the org's lock, so it must not call back into
//     the org.
//
// Calls counts requests: Token for the token endpoint, API for charged data
// calls, ByEndpoint by resource name (the Endpoint constants). A composite
// or collections request is one API call whatever it holds; the
// subrequests a composite ran are counted in ByEndpoint under
// SubrequestPrefix plus their resource name, such as
// "composite-sub:record-patch", and never charged.
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
// For sObject Collections and Composite the guesses are:
//
//   - A data request whose request URI is over 16 KiB (16,384 bytes, so
//     about 800 ids of a collections GET fit, as §6 says, and a query's
//     text is bounded alike) answers 414 URI_TOO_LONG before
//     authentication, uncharged and without Sforce-Limit-Info, as a front
//     end would; the real 414 may not be JSON at all. Subrequests are not
//     checked.
//   - More than 2,000 ids in a retrieve: 400 EXCEEDED_ID_LIMIT, worded as
//     the observed 200-record error with 2000. A missing ids, fields or
//     records: 400 MISSING_ARGUMENT. An unknown object in a retrieve: 404
//     NOT_FOUND.
//   - The status 400 of EXCEEDED_ID_LIMIT for more than 200 records (§6
//     leaves it open).
//   - A record with no id: MISSING_ARGUMENT "Id not specified in an
//     update call", as SOAP updates answer. A well-formed id of the right
//     object naming no record: INVALID_CROSS_REFERENCE_KEY "invalid cross
//     reference id". The result carries the id whenever it was well formed
//     and of the record's type, and omits it otherwise.
//   - The message of ALL_OR_NONE_OPERATION_ROLLED_BACK.
//   - A record that is not an object, a value that cannot be read (400
//     JSON_PARSER_ERROR) and a missing or unknown attributes.type (400
//     INVALID_TYPE) make the whole collections request fail, writing
//     nothing.
//   - Composite refusals: LIMIT_EXCEEDED for the 25 and 5 limits,
//     INVALID_INPUT for forbidden headers, a method other than GET, POST,
//     PATCH, PUT or DELETE, a missing url or referenceId, an empty
//     compositeRequest or "@{"; JSON_PARSER_ERROR for bad JSON.
//   - PROCESSING_HALTED bodies are [{message, errorCode}] with status 400
//     (documented) and the observed message "The transaction was rolled
//     back since another operation in the same transaction failed.", for
//     subrequests undone and for those never run alike.
//   - The versions: collections need 42.0 (§6); composite is served on
//     every served version, as §6 gives no first version.
//
// # Adding resources
//
// Every data request enters through one handler that routes it (route),
// counts it, applies latency and the hook, checks version, session, limit
// and faults (admit), and then runs the resource. A new resource adds a
// case to route and an Endpoint name; composite subrequests reach it
// through the same route, with runSubrequest standing in for admit. A
// resource that writes records saves them in call.journal before changing
// them, and draws recordFault before a single-record write, so that
// composite all-or-none and SetRecordFaultRate cover it.
package sftest
