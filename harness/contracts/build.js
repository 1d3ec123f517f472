// Compiles Workloads.sol with the pinned solc-js and writes workloads.json: per contract its
// runtime and creation bytecode and method selectors, plus the keccak256 of the source, which
// a test compares with the committed source.
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const file = "Workloads.sol";
const source = fs.readFileSync(path.join(__dirname, file), "utf8");
const input = {
  language: "Solidity",
  sources: { [file]: { content: source } },
  settings: {
    evmVersion: "shanghai",
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
const contracts = {};
for (const [name, c] of Object.entries(output.contracts[file])) {
  contracts[name] = {
    creation: "0x" + c.evm.bytecode.object,
    runtime: "0x" + c.evm.deployedBytecode.object,
    methods: c.evm.methodIdentifiers,
  };
}
const { keccak256 } = require("js-sha3"); // a dependency of solc itself
const out = { compiler: solc.version(), source: file, sourceKeccak: "0x" + keccak256(Buffer.from(source, "utf8")), contracts };
fs.writeFileSync(path.join(__dirname, "workloads.json"), JSON.stringify(out, null, 2) + "\n");
console.log(`wrote workloads.json: ${Object.keys(contracts).join(", ")} with solc ${solc.version()}`);
