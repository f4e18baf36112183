// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// The vault between the center chain and the main chain. It holds the main-chain MLK that
/// stands for MLK on the center chain. Withdrawals burned on the center chain are gathered
/// into batches; TICA's bridge key signs each batch's Merkle root, anyone posts it, and each
/// withdrawal is released once, to its address, against its proof. A deposit moves MLK into
/// the vault naming a milk address, which the center chain credits once it is confirmed.
contract MilkVault {
    using SafeERC20 for IERC20;

    /// The coin the vault holds.
    IERC20 public immutable coin;
    /// The key whose signature makes a batch's root good.
    address public immutable bridgeSigner;
    /// Each posted batch's Merkle root.
    mapping(uint64 => bytes32) public roots;
    /// Each withdrawal released, by its center-chain id.
    mapping(bytes32 => bool) public released;

    event BatchPosted(uint64 indexed batch, bytes32 root);
    event Released(bytes32 indexed withdrawal, address indexed to, uint256 amount);
    event Deposited(address indexed from, bytes32 indexed milkAddress, uint256 amount);

    error BadSignature();
    error BatchPostedAlready();
    error UnknownBatch();
    error ReleasedAlready();
    error BadProof();
    error ZeroAmount();
    error NoMilkAddress();

    constructor(IERC20 coin_, address bridgeSigner_) {
        coin = coin_;
        bridgeSigner = bridgeSigner_;
    }

    /// What the bridge key signs for a batch: bound to this chain and this vault.
    function batchDigest(uint64 batch, bytes32 root) public view returns (bytes32) {
        return keccak256(abi.encode("milk/bridge/batch/v1", block.chainid, address(this), batch, root));
    }

    /// A withdrawal's leaf in its batch's tree (hashed twice, so no inner node is a leaf).
    function leaf(bytes32 withdrawal, address to, uint256 amount) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(withdrawal, to, amount))));
    }

    /// Posts a batch's root, signed by the bridge key; a batch is posted once.
    function postBatch(uint64 batch, bytes32 root, bytes calldata signature) external {
        if (roots[batch] != bytes32(0)) revert BatchPostedAlready();
        if (ECDSA.recover(batchDigest(batch, root), signature) != bridgeSigner) revert BadSignature();
        roots[batch] = root;
        emit BatchPosted(batch, root);
    }

    /// Releases one withdrawal of a posted batch, once, to the address it names.
    function release(
        uint64 batch,
        bytes32 withdrawal,
        address to,
        uint256 amount,
        bytes32[] calldata proof
    ) external {
        bytes32 root = roots[batch];
        if (root == bytes32(0)) revert UnknownBatch();
        if (released[withdrawal]) revert ReleasedAlready();
        if (!MerkleProof.verifyCalldata(proof, root, leaf(withdrawal, to, amount))) revert BadProof();
        released[withdrawal] = true;
        coin.safeTransfer(to, amount);
        emit Released(withdrawal, to, amount);
    }

    /// Moves `amount` of the caller's MLK into the vault for the milk account `milkAddress`.
    function deposit(uint256 amount, bytes32 milkAddress) external {
        if (amount == 0) revert ZeroAmount();
        if (milkAddress == bytes32(0)) revert NoMilkAddress();
        coin.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(msg.sender, milkAddress, amount);
    }
}
