// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// MLK on the main chain, where exchanges trade it. Its supply is fixed: all of it is minted
/// once, to `holder` (TICA, who moves it into the vault), and never again. Its decimals are the
/// center chain's, so one base unit is one base unit on both sides.
contract MilkCoin is ERC20 {
    constructor(address holder, uint256 supply) ERC20("MiL.k Coin", "MLK") {
        _mint(holder, supply);
    }

    function decimals() public pure override returns (uint8) {
        return 8;
    }
}
