// Package config reads the connector's settings from environment variables,
// checks all of them at once, and keeps the Salesforce client secret out of
// anything printed.
//
// FromEnv reads the process environment; FromFileAndEnv also reads a YAML
// file of the same variable names, the environment winning; Load reads a
// map, which is what tests use. Either returns a Config whose values are ready to hand to the other
// packages as plain values: defaults filled in, surrounding whitespace removed,
// keywords in lowercase, the Salesforce domain without a trailing slash. When
// anything is wrong the error is a *ValidationError that lists every problem,
// one line each, starting with the variable's name.
//
// Variables is the single list of the variables, their defaults and what each
// means, in the order the README shows them. Their defaults and whether they
// are required live in the struct tags of Config's fields, and Variables reads
// them from there, so documentation and behaviour cannot drift apart.
//
// The client secret has its own type, Secret, whose every printed or encoded
// form is "[redacted]". Only Secret.Reveal gives the value, for the one place
// that sends it to Salesforce.
//
// The package is a leaf: it depends on no other package of the module and
// logs nothing.
package config
