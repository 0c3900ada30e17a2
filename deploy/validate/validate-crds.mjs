// Validates Strimzi and CloudNativePG custom resources offline.
//
//   node validate-crds.mjs objects.json      (a JSON array of objects, or of {origin, object})
//   node validate-crds.mjs a.yaml b.yaml     (multi-document YAML)
//
// Two checks per object:
//   1. schema: the JSON-Schema validators that @kubernetes-models generated from
//      the operators' CRDs (Strimzi 0.49.0 + 1.0.0, CloudNativePG). They accept
//      unknown fields, as the CRDs do (the API server would prune them silently).
//   2. field names: every key must be a property of the TypeScript type that the
//      same package generated from the same CRD, recursively; maps (labels,
//      Kafka "config", ...) and free-form objects are not descended into.
// The ObjectStore of the Barman Cloud Plugin has no package: its
// spec.configuration is checked against the barman-cloud types that ship in
// @kubernetes-models/cloudnative-pg, the rest against a small allow-list.
//
// Objects of other API groups are ignored (the Python side validates built-in
// kinds with kubernetes-validate). Prints one line per problem, a summary
// line, and exits 1 when any object fails.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import YAML from "yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));

const STRIMZI = "@kubernetes-models/strimzi-kafka-operator";
const CNPG = "@kubernetes-models/cloudnative-pg";
const BARMAN_CONFIG = {
  module: `${CNPG}/github.com/cloudnative-pg/barman-cloud/pkg/api/BarmanObjectStoreConfiguration`,
  type: "IBarmanObjectStoreConfiguration",
  className: "BarmanObjectStoreConfiguration",
};

// apiVersion + kind -> the generated model module and its interface.
const KINDS = {};
for (const version of ["v1", "v1beta2"]) {
  for (const kind of ["Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"]) {
    KINDS[`kafka.strimzi.io/${version}/${kind}`] = {
      module: `${STRIMZI}/kafka.strimzi.io/${version}/${kind}`, type: `I${kind}`, className: kind,
    };
  }
}
for (const kind of ["Cluster", "ScheduledBackup", "Backup", "Pooler", "Database"]) {
  KINDS[`postgresql.cnpg.io/v1/${kind}`] = {
    module: `${CNPG}/postgresql.cnpg.io/v1/${kind}`, type: `I${kind}`, className: kind,
  };
}
const OBJECT_STORE = "barmancloud.cnpg.io/v1/ObjectStore";
const HANDLED_GROUPS = new Set(["kafka.strimzi.io", "core.strimzi.io", "postgresql.cnpg.io", "barmancloud.cnpg.io"]);

// ---------------------------------------------------------------- inputs
function readObjects(args) {
  const out = [];
  for (const file of args) {
    const text = fs.readFileSync(file, "utf8");
    if (file.endsWith(".json")) {
      for (const item of JSON.parse(text)) {
        if (item && item.object) out.push({ origin: item.origin ?? file, object: item.object });
        else out.push({ origin: file, object: item });
      }
    } else {
      for (const doc of YAML.parseAllDocuments(text)) {
        if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
        const object = doc.toJS();
        if (object) out.push({ origin: file, object });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- field names
function buildTypeChecker(entries) {
  const virtual = path.join(HERE, "__crd_types__.ts");
  const source = entries
    .map((e, i) => `import type { ${e.type} as T${i} } from "${e.module}";\nexport type X${i} = T${i};`)
    .join("\n");
  const options = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    path.resolve(name) === virtual ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === virtual || fileExists(name);
  const program = ts.createProgram([virtual], options, host);
  const unresolved = program
    .getSemanticDiagnostics(program.getSourceFile(virtual))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  if (unresolved.length) throw new Error(`cannot load CRD types: ${unresolved.join("; ")}`);
  const checker = program.getTypeChecker();
  const types = new Map();
  program.getSourceFile(virtual).statements.forEach((st) => {
    if (ts.isTypeAliasDeclaration(st)) {
      const i = Number(st.name.text.slice(1));
      types.set(entries[i].key, checker.getTypeAtLocation(st.name));
    }
  });
  return { checker, types };
}

function unknownFields(checker, value, type, where, errors) {
  if (value === null || typeof value !== "object") return;
  type = checker.getNonNullableType(type);
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  const members = type.isUnion() ? type.types : [type];
  if (Array.isArray(value)) {
    const elements = members
      .filter((t) => checker.isArrayType(t))
      .map((t) => checker.getTypeArguments(t)[0]);
    if (elements.length) value.forEach((v, i) => unknownFields(checker, v, elements[0], `${where}[${i}]`, errors));
    return;
  }
  const objects = members.filter((t) => t.flags & ts.TypeFlags.Object && !checker.isArrayType(t));
  if (!objects.length) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = where ? `${where}.${key}` : key;
    let found = false;
    for (const t of objects) {
      const prop = checker.getPropertyOfType(t, key);
      if (prop) {
        found = true;
        unknownFields(checker, child, checker.getTypeOfSymbol(prop), childPath, errors);
        break;
      }
      const indexType = checker.getIndexTypeOfType(t, ts.IndexKind.String);
      if (indexType) {
        found = true;
        unknownFields(checker, child, indexType, childPath, errors);
        break;
      }
      if (checker.getPropertiesOfType(t).length === 0) {
        found = true; // free-form object (x-kubernetes-preserve-unknown-fields)
        break;
      }
    }
    if (!found) {
      const known = [...new Set(objects.flatMap((t) => checker.getPropertiesOfType(t).map((p) => p.name)))];
      errors.push(`${childPath}: unknown field "${key}" (known here: ${known.sort().join(", ")})`);
    }
  }
}

// ---------------------------------------------------------------- schema
async function schemaErrors(entry, object) {
  const mod = await import(entry.module);
  const Model = mod[entry.className];
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    const details = (err.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
    return details.length ? details : [String(err.message ?? err)];
  }
}

const OBJECT_STORE_FIELDS = {
  apiVersion: null, kind: null, metadata: "meta",
  spec: { configuration: "barman", retentionPolicy: "string", instanceSidecarConfiguration: "free" },
};

async function validateObjectStore(object, checker, types) {
  const errors = [];
  for (const key of Object.keys(object)) {
    if (!(key in OBJECT_STORE_FIELDS)) errors.push(`${key}: unknown field "${key}"`);
  }
  const spec = object.spec ?? {};
  for (const key of Object.keys(spec)) {
    if (!(key in OBJECT_STORE_FIELDS.spec)) errors.push(`spec.${key}: unknown field "${key}"`);
  }
  if (spec.retentionPolicy !== undefined && !/^[1-9][0-9]*[dwm]$/.test(String(spec.retentionPolicy))) {
    errors.push(`spec.retentionPolicy: "${spec.retentionPolicy}" is not <number>d|w|m`);
  }
  if (!spec.configuration) {
    errors.push("spec.configuration: required");
  } else {
    errors.push(...(await schemaErrors(BARMAN_CONFIG, spec.configuration)).map((e) => `spec.configuration${e}`));
    unknownFields(checker, spec.configuration, types.get("barman"), "spec.configuration", errors);
  }
  return errors;
}

// ---------------------------------------------------------------- main
async function main() {
  const args = process.argv.slice(2);
  if (!args.length) {
    console.error("usage: node validate-crds.mjs <objects.json | manifests.yaml ...>");
    process.exit(2);
  }
  const items = readObjects(args);
  const entries = Object.entries(KINDS).map(([key, e]) => ({ key, ...e }));
  entries.push({ key: "barman", ...BARMAN_CONFIG });
  const { checker, types } = buildTypeChecker(entries);

  let checked = 0;
  let failed = 0;
  for (const { origin, object } of items) {
    const apiVersion = object.apiVersion ?? "";
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    if (!HANDLED_GROUPS.has(group)) continue;
    const key = `${apiVersion}/${object.kind}`;
    const name = `${origin}: ${object.kind}/${object.metadata?.name ?? "?"}`;
    let errors;
    if (key === OBJECT_STORE) {
      errors = await validateObjectStore(object, checker, types);
    } else if (KINDS[key]) {
      errors = await schemaErrors(KINDS[key], object);
      unknownFields(checker, object, types.get(key), "", errors);
    } else {
      errors = [`no schema known for ${key}`];
    }
    checked += 1;
    if (errors.length) {
      failed += 1;
      for (const e of errors) console.log(`FAIL ${name}: ${e}`);
    }
  }
  console.log(`validate-crds: ${checked - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`validate-crds: ${err.stack ?? err}`);
  process.exit(2);
});
