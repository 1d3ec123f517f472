// SPDX-License-Identifier: MIT OR Apache-2.0
// lockstep's workload contracts. Storage layouts are part of the workload generators'
// contract: the generators seed state by slot, so a change here needs `just contracts`
// and a look at harness/src/workload/contracts.rs.
pragma solidity 0.8.30;

/// ERC-20 transfers. Slot 0: balances; slot 1: total supply.
contract Token {
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function transfer(address to, uint256 value) external returns (bool) {
        uint256 have = balanceOf[msg.sender];
        require(have >= value, "balance");
        unchecked {
            balanceOf[msg.sender] = have - value;
        }
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}

/// A constant-product pool with a 0.3% fee. Slot 0: reserve0; slot 1: reserve1;
/// slot 2: balances of token 0; slot 3: balances of token 1 (internal ledgers).
contract Pool {
    uint256 public reserve0;
    uint256 public reserve1;
    mapping(address => uint256) public balance0;
    mapping(address => uint256) public balance1;

    event Swap(address indexed who, bool zeroForOne, uint256 amountIn, uint256 amountOut);

    function swap(bool zeroForOne, uint256 amountIn) external returns (uint256 amountOut) {
        (uint256 rIn, uint256 rOut) = zeroForOne ? (reserve0, reserve1) : (reserve1, reserve0);
        uint256 inWithFee = amountIn * 997;
        amountOut = (inWithFee * rOut) / (rIn * 1000 + inWithFee);
        if (zeroForOne) {
            require(balance0[msg.sender] >= amountIn, "balance0");
            balance0[msg.sender] -= amountIn;
            balance1[msg.sender] += amountOut;
            reserve0 = rIn + amountIn;
            reserve1 = rOut - amountOut;
        } else {
            require(balance1[msg.sender] >= amountIn, "balance1");
            balance1[msg.sender] -= amountIn;
            balance0[msg.sender] += amountOut;
            reserve1 = rIn + amountIn;
            reserve0 = rOut - amountOut;
        }
        emit Swap(msg.sender, zeroForOne, amountIn, amountOut);
    }
}

/// NFT mints from one shared counter. Slot 0: next id; slot 1: owners; slot 2: balances.
contract Nft {
    uint256 public nextId;
    mapping(uint256 => address) public ownerOf;
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 indexed id);

    function mint() external returns (uint256 id) {
        id = nextId++;
        ownerOf[id] = msg.sender;
        balanceOf[msg.sender] += 1;
        emit Transfer(address(0), msg.sender, id);
    }
}

/// Hot key: one counter every call increments. Slot 0: count.
contract Counter {
    uint256 public count;

    function inc() external {
        count += 1;
    }
}

/// Reads the beneficiary: stores and returns its balance (known-bugs #2). Slot 0: last read.
contract CoinbaseReader {
    uint256 public seen;

    function read() external returns (uint256) {
        seen = block.coinbase.balance;
        return seen;
    }
}

/// A contract whose write set depends on what it reads (known-bugs #10, #21).
/// Slot 0: flag; slot 1, slot 2: branch targets.
contract Branchy {
    uint256 public flag;
    uint256 public left;
    uint256 public right;

    event Took(uint256 branch);

    function set(uint256 f) external {
        flag = f;
    }

    function poke() external {
        if (flag == 0) {
            left += 1;
            emit Took(0);
        } else {
            right += 1;
            emit Took(1);
        }
    }
}

/// Destroyed and re-created at one address (known-bugs #6, #7). Slot 0 is set by the
/// constructor, slot 1 by `put`.
contract Phoenix {
    uint256 public born;
    uint256 public stash;

    constructor() payable {
        born = 7;
    }

    function put(uint256 v) external {
        stash = v;
    }

    function read() external view returns (uint256, uint256) {
        return (born, stash);
    }

    function kill() external {
        selfdestruct(payable(msg.sender));
    }
}

/// Deploys Phoenix with CREATE2 (salt 0) and empty contracts with CREATE (known-bugs #8).
contract Factory {
    address public last;

    function rebirth() external returns (address a) {
        a = address(new Phoenix{salt: bytes32(0)}());
        last = a;
    }

    function spawn() external returns (address a) {
        a = address(new Empty());
        last = a;
    }
}

contract Empty {}
